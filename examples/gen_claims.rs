//! Generates a seeded batch of synthetic TPI claims as JSON Lines on stdout, for
//! the README's main command and for throughput measurements.
//!
//! `cargo run --release --example gen_claims -- [COUNT] [SEED] > claims.jsonl`
//!
//! The mix is deterministic for a seed: mostly clean TPI claims with their drug
//! line, and a share of uncovered diagnoses, extra units, modifier 50, imaging
//! guidance, anesthesia, dry needling, missing drugs, repeats with and without
//! relief facts, and a few malformed claims and unknown payers.

use std::io::{self, BufWriter, Write};

/// A small linear congruential generator: deterministic across platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const COVERED: &[&str] = &["M79.18", "M79.12", "M79.10", "G44.209", "G44.219", "M79.11"];
const OTHER_DX: &[&str] = &["M54.2", "M54.50", "M62.830", "M79.7", "G89.29", "M54.6"];
const SITES: &[&str] = &[
    "cervical",
    "lumbar",
    "thoracic",
    "left-shoulder",
    "right-shoulder",
    "scapular",
];
const DRUGS: &[&str] = &["J3301", "J1030", "J1040", "J2001", "J1100"];

fn date(day: u64) -> String {
    // Day 0 is 2024-04-01; months are walked by hand to avoid a date dependency.
    const DAYS: [u64; 12] = [30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 31]; // Apr..Mar
    let (mut y, mut m, mut d) = (2024u64, 4u64, 1 + day);
    loop {
        let idx = ((m + 12 - 4) % 12) as usize;
        let mut len = DAYS[idx];
        if m == 2 && y % 4 == 0 {
            len = 29;
        }
        if d <= len {
            break;
        }
        d -= len;
        m += 1;
        if m == 13 {
            m = 1;
            y += 1;
        }
    }
    format!("{y:04}-{m:02}-{d:02}")
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let mut rng = Rng(seed);
    let patients = (count / 4).max(1);
    let out = io::stdout();
    let mut out = BufWriter::new(out.lock());
    for i in 0..count {
        // Dates advance with the claim index so that the batch arrives in order.
        let day = i * 700 / count.max(1) + rng.below(3);
        let dos = date(day);
        let payer = if rng.chance(55) {
            "medicare"
        } else if rng.chance(97) {
            "emblemhealth"
        } else {
            "aetna"
        };
        let patient = format!("PAT-{:06}", rng.below(patients));
        let mut dx = vec![if rng.chance(85) {
            rng.pick(COVERED)
        } else {
            rng.pick(OTHER_DX)
        }];
        if rng.chance(40) {
            dx.push(rng.pick(OTHER_DX));
        }
        let tpi = if rng.chance(60) { "20553" } else { "20552" };
        let site = rng.pick(SITES);
        let units = if rng.chance(4) { 2 } else { 1 };
        let mods = if rng.chance(3) {
            r#"["50"]"#
        } else if rng.chance(5) {
            r#"["59"]"#
        } else {
            "[]"
        };
        let mut lines = vec![format!(
            r#"{{"line":1,"date_of_service":"{dos}","procedure":"{tpi}","modifiers":{mods},"units":{units},"diagnosis_pointers":[1],"site":"{site}","muscles":{},"charge":182.5}}"#,
            if tpi == "20553" { 3 } else { 2 }
        )];
        if !rng.chance(8) {
            lines.push(format!(
                r#"{{"line":2,"date_of_service":"{dos}","procedure":"{}","units":1,"charge":12.0}}"#,
                rng.pick(DRUGS)
            ));
        }
        let extra = rng.below(100);
        let extra_code = match extra {
            0..=3 => Some("76942"),
            4..=5 => Some("77002"),
            6..=7 => Some("01992"),
            8..=10 => Some("20560"),
            _ => None,
        };
        if let Some(code) = extra_code {
            let n = lines.len() + 1;
            lines.push(format!(
                r#"{{"line":{n},"date_of_service":"{dos}","procedure":"{code}","units":1}}"#
            ));
        }
        let facts = if rng.chance(50) {
            format!(
                r#","facts":{{"relief_percent":{},"relief_weeks":{}}}"#,
                30 + rng.below(60),
                3 + rng.below(8)
            )
        } else {
            String::new()
        };
        let diagnoses: Vec<String> = dx.iter().map(|d| format!("\"{d}\"")).collect();
        if rng.chance(1) {
            // A malformed claim: units 0. It must come back as an error record.
            writeln!(
                out,
                r#"{{"id":"CLM-{i:07}","payer":"{payer}","patient":{{"id":"{patient}"}},"diagnoses":[{}],"lines":[{{"date_of_service":"{dos}","procedure":"{tpi}","units":0}}]}}"#,
                diagnoses.join(",")
            )?;
            continue;
        }
        writeln!(
            out,
            r#"{{"id":"CLM-{i:07}","payer":"{payer}","patient":{{"id":"{patient}","birth_date":"1961-05-14","sex":"F"}},"provider":{{"npi":"1234567893","taxonomy":"208VP0014X"}},"place_of_service":"11","diagnoses":[{}]{facts},"lines":[{}]}}"#,
            diagnoses.join(","),
            lines.join(",")
        )?;
    }
    out.flush()
}
