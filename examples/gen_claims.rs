//! Generates a seeded batch of synthetic TPI claims as JSON Lines on stdout, for
//! the README's main command and for throughput measurements.
//!
//! `cargo run --release --example gen_claims -- [COUNT] [SEED] > claims.jsonl`
//! `cargo run --release --example gen_claims -- [COUNT] [SEED] --x12 > claims.837p`
//!
//! With `--x12` the same claims are written as one X12 837P interchange (the
//! library's 837P writer), which reads back to the same claims. The few
//! malformed claims of the batch are not valid claims, so they have no 837P
//! form: they are left out, and the count left out is said on stderr.
//!
//! The batch spans every bundled payer (medicare, emblemhealth, bcbsa, cigna,
//! aetna) and a few claims of a payer with no policy. The mix is deterministic for
//! a seed: mostly clean TPI claims with their drug line and the documentation facts
//! each payer asks for; for medicare and bcbsa also claims of their other policies
//! (acupuncture, epidural steroid injections and outpatient therapy for medicare,
//! epidural steroid and sacroiliac joint injections for bcbsa: see `other_claim`);
//! and a share of what each policy edits: uncovered or
//! investigational diagnoses, extra units, modifier 50, 20552 beside 20553, codes
//! that disagree with the muscles injected, too many injections, imaging guidance,
//! anesthesia, dry needling, acupuncture, E/M visits with and without modifier 25,
//! saline or unclassified drugs, missing or insufficient documentation, repeats too
//! soon, and a few malformed claims. Each payer has its own patients, who come back
//! for repeat sessions, so the frequency and interval rules have history to count.

use std::io::{self, BufWriter, Write};

use payer_rules::internal::X12Writer;
use payer_rules::{ClaimReader, InputFormat};

/// Where the claims go: JSON Lines as generated, or 837P through the
/// library's reader and writer.
enum Sink<W: Write> {
    Json(W),
    X12 { writer: X12Writer<W>, left_out: u64 },
}

impl<W: Write> Sink<W> {
    fn emit(&mut self, json: &str) -> io::Result<()> {
        match self {
            Sink::Json(out) => writeln!(out, "{json}"),
            Sink::X12 { writer, left_out } => {
                match ClaimReader::new(json.as_bytes(), InputFormat::JsonLines).next() {
                    Some(Ok(claim)) => writer.write(&claim)?,
                    _ => *left_out += 1,
                }
                Ok(())
            }
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Json(mut out) => out.flush(),
            Sink::X12 { writer, left_out } => {
                writer.finish()?.flush()?;
                if left_out > 0 {
                    eprintln!("{left_out} malformed claims have no 837P form and were left out");
                }
                Ok(())
            }
        }
    }
}

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
        let at = self.below(items.len() as u64) as usize;
        items.get(at).copied().unwrap_or_default()
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A payer of the batch: its id, its share of claims (percent), a short prefix for
/// its patients' ids, and the diagnoses its policy covers.
struct Payer {
    id: &'static str,
    share: u64,
    prefix: &'static str,
    covered: &'static [&'static str],
}

/// Medicare covers the LCD's ten codes; the commercial payers' claims mostly carry
/// myofascial pain codes (BCBSA's analyst list is M79.1-, M60.8-, M62.83-).
const MEDICARE_DX: &[&str] = &["M79.18", "M79.12", "M79.10", "G44.209", "G44.219", "M79.11"];
const MYOFASCIAL_DX: &[&str] = &[
    "M79.18", "M79.12", "M79.10", "M60.811", "M62.830", "M62.838",
];
const PAYERS: &[Payer] = &[
    Payer {
        id: "medicare",
        share: 30,
        prefix: "MC",
        covered: MEDICARE_DX,
    },
    Payer {
        id: "emblemhealth",
        share: 15,
        prefix: "EH",
        covered: MYOFASCIAL_DX,
    },
    Payer {
        id: "bcbsa",
        share: 20,
        prefix: "BC",
        covered: MYOFASCIAL_DX,
    },
    Payer {
        id: "cigna",
        share: 18,
        prefix: "CI",
        covered: MYOFASCIAL_DX,
    },
    Payer {
        id: "aetna",
        share: 15,
        prefix: "AE",
        covered: MYOFASCIAL_DX,
    },
    // No bundled policy: these claims come back as `no_policy` error records.
    Payer {
        id: "humana",
        share: 2,
        prefix: "HU",
        covered: MYOFASCIAL_DX,
    },
];

/// Diagnoses no TPI policy here covers, and fibromyalgia / CRPS (investigational
/// for BCBSA).
const OTHER_DX: &[&str] = &["M54.2", "M54.50", "M79.7", "G89.29", "M54.6", "G90.511"];
const SITES: &[&str] = &[
    "cervical",
    "lumbar",
    "thoracic",
    "left-shoulder",
    "right-shoulder",
    "scapular",
];
/// Local anesthetics and corticosteroids, the usual TPI drugs.
const DRUGS: &[&str] = &["J3301", "J1030", "J1040", "J2001", "J1100", "J0702"];

fn date(day: u64) -> String {
    // Day 0 is 2024-04-01; months are walked by hand to avoid a date dependency.
    const DAYS: [u64; 12] = [30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 28, 31]; // Apr..Mar
    let (mut y, mut m, mut d) = (2024u64, 4u64, 1 + day);
    loop {
        let idx = ((m + 12 - 4) % 12) as usize;
        let mut len = DAYS.get(idx).copied().unwrap_or(31);
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

#[expect(
    clippy::indexing_slicing,
    reason = "PAYERS is a constant, non-empty table"
)]
fn pick_payer(rng: &mut Rng) -> &'static Payer {
    let mut roll = rng.below(100);
    for p in PAYERS {
        if roll < p.share {
            return p;
        }
        roll -= p.share;
    }
    &PAYERS[0]
}

/// The documentation facts a payer's policy reads, mostly present and sufficient.
fn facts(rng: &mut Rng, payer: &str) -> Vec<String> {
    let mut f = Vec::new();
    match payer {
        "medicare" | "cigna" if rng.chance(if payer == "cigna" { 75 } else { 50 }) => {
            f.push(format!("\"relief_percent\":{}", 30 + rng.below(60)));
            f.push(format!("\"relief_weeks\":{}", 3 + rng.below(8)));
            if payer == "cigna" {
                f.push(format!("\"functional_improvement\":{}", rng.chance(90)));
                f.push(format!("\"self_management_instructed\":{}", rng.chance(90)));
            }
        }
        "bcbsa" => {
            if rng.chance(85) {
                let weeks = if rng.chance(90) {
                    6 + rng.below(10)
                } else {
                    2 + rng.below(4)
                };
                f.push(format!("\"conservative_therapy_weeks\":{weeks}"));
            } else if rng.chance(40) {
                f.push("\"conservative_therapy_not_feasible\":true".to_string());
            }
        }
        "aetna" => {
            if rng.chance(92) {
                f.push(format!("\"symptom_duration_days\":{}", 60 + rng.below(400)));
            }
            if rng.chance(94) {
                f.push(format!("\"trigger_points_palpated\":{}", rng.chance(96)));
            }
            if rng.chance(15) {
                f.push("\"therapeutic_effect_achieved\":true".to_string());
            }
        }
        _ => {}
    }
    f
}

/// Spinal levels (the `site` of an epidural line), lumbar/sacral and cervical.
const LUMBAR_LEVELS: &[&str] = &["L3-L4", "L4-L5", "L5-S1"];
const CERVICAL_LEVELS: &[&str] = &["C5-C6", "C6-C7"];

/// A claim of one of the payer's policies other than TPI, for about a quarter of
/// medicare's and bcbsa's claims; `None` for a TPI claim. Acupuncture and therapy
/// patients come from a pool a tenth the size of the payer's, so that their visits
/// and charges add up toward the limits and thresholds over a large batch (in the
/// 600 claims of `examples/claims.jsonl` no member's therapy reaches a KX threshold:
/// the policies' cases show those).
fn other_claim(rng: &mut Rng, payer: &Payer, i: u64, dos: &str, pool: u64) -> Option<String> {
    let kind = match (payer.id, rng.below(100)) {
        ("medicare", 0..=7) => "acupuncture",
        ("medicare", 8..=15) => "esi",
        ("medicare", 16..=24) => "therapy",
        ("bcbsa", 0..=12) => "esi",
        ("bcbsa", 13..=24) => "si-joint",
        _ => return None,
    };
    let small = (pool / 10).max(1);
    let (patient, dx, facts, lines): (String, Vec<&str>, Vec<String>, Vec<String>) = match kind {
        "acupuncture" => {
            let patient = format!("{}-A{:05}", payer.prefix, rng.below(small));
            let dx = if rng.chance(88) {
                rng.pick(&["M54.50", "M54.59", "M54.51"])
            } else {
                rng.pick(&["M79.18", "M54.2", "M79.7"])
            };
            let kx = if rng.chance(40) {
                r#""modifiers":["KX"],"#
            } else {
                ""
            };
            let initial = match rng.below(100) {
                0..=54 => "97810",
                55..=89 => "97813",
                _ => "20560",
            };
            let mut lines = Vec::new();
            if !rng.chance(3) {
                lines.push(format!(
                    r#""procedure":"{initial}",{kx}"units":1,"charge":38.0"#
                ));
            }
            if initial != "20560" && rng.chance(50) || lines.is_empty() {
                let addon = if initial == "97813" { "97814" } else { "97811" };
                let units = 1 + rng.below(2);
                lines.push(format!(
                    r#""procedure":"{addon}","units":{units},"charge":29.0"#
                ));
            }
            (patient, vec![dx], Vec::new(), lines)
        }
        "therapy" => {
            let patient = format!("{}-T{:05}", payer.prefix, rng.below(small));
            let (modifier, dx, codes): (&str, &str, &[&str]) = match rng.below(100) {
                0..=59 => ("GP", "M54.50", &["97110", "97140", "97112", "97530"]),
                60..=84 => ("GO", "M25.511", &["97530", "97535", "97110"]),
                _ => ("GN", "R13.10", &["92507", "92526"]),
            };
            let kx = if rng.chance(25) { ",\"KX\"" } else { "" };
            let mut lines = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let code = rng.pick(codes);
                let units = 1 + rng.below(3);
                let cents = 2900 + rng.below(900);
                lines.push(format!(
                    r#""procedure":"{code}","modifiers":["{modifier}"{kx}],"units":{units},"charge":{}.{:02}"#,
                    cents * units / 100,
                    cents * units % 100
                ));
            }
            (patient, vec![dx], Vec::new(), lines)
        }
        "esi" => {
            let cervical = rng.chance(25);
            let (levels, dx, il, tf, addon) = if cervical {
                (CERVICAL_LEVELS, "M54.12", "62321", "64479", "64480")
            } else {
                (
                    LUMBAR_LEVELS,
                    rng.pick(&["M54.16", "M51.26", "M48.061"]),
                    "62323",
                    "64483",
                    "64484",
                )
            };
            let level = rng.pick(levels);
            let mut lines = Vec::new();
            let bilateral = if rng.chance(10) {
                r#""modifiers":["50"],"#
            } else {
                ""
            };
            let snrb = payer.id == "medicare" && rng.chance(10);
            let kx = if snrb && rng.chance(70) {
                r#""modifiers":["KX"],"#
            } else {
                bilateral
            };
            match rng.below(100) {
                0..=4 => lines.push(format!(
                    r#""procedure":"{}","units":1,"site":"{level}","charge":410.0"#,
                    if cervical { "62320" } else { "62322" }
                )),
                5..=39 => lines.push(format!(
                    r#""procedure":"{il}","units":1,"site":"{level}","charge":430.0"#
                )),
                _ => {
                    lines.push(format!(
                        r#""procedure":"{tf}",{kx}"units":1,"site":"{level}","charge":520.0"#
                    ));
                    if rng.chance(45) {
                        let units = if rng.chance(8) { 2 } else { 1 };
                        lines.push(format!(
                            r#""procedure":"{addon}",{kx}"units":{units},"charge":210.0"#
                        ));
                    }
                }
            }
            if rng.chance(4) {
                // The same level by the other approach, or an add-on without its
                // primary, or a second region: what the policies edit.
                let extra = match rng.below(3) {
                    0 => format!(r#""procedure":"{tf}","units":1,"site":"{level}","charge":520.0"#),
                    1 => format!(r#""procedure":"{addon}","units":1,"charge":210.0"#),
                    _ => format!(
                        r#""procedure":"{}","units":1,"charge":520.0"#,
                        if cervical { "64483" } else { "64479" }
                    ),
                };
                lines.push(extra);
            }
            lines.push(r#""procedure":"J1040","units":1,"charge":14.0"#.to_string());
            if rng.chance(5) {
                let code = if payer.id == "bcbsa" {
                    "72275"
                } else {
                    "01992"
                };
                lines.push(format!(r#""procedure":"{code}","units":1,"charge":150.0"#));
            }
            let mut facts = Vec::new();
            if snrb {
                facts.push("\"diagnostic_nerve_root_block\":true".to_string());
            }
            if payer.id == "bcbsa" {
                if rng.chance(90) {
                    facts.push(format!(
                        "\"conservative_therapy_weeks\":{}",
                        1 + rng.below(12)
                    ));
                } else if rng.chance(50) {
                    facts.push("\"acute_disc_injury_on_imaging\":true".to_string());
                }
            }
            (patient_of(payer, rng, pool), vec![dx], facts, lines)
        }
        _ => {
            // bcbsa sacroiliac joint: 27096, or G0260 with its guidance line; a
            // steroid line makes it therapeutic.
            let mut lines = Vec::new();
            match rng.below(100) {
                0..=2 => lines.push(r#""procedure":"64625","units":1,"charge":900.0"#.to_string()),
                3..=5 => lines.push(r#""procedure":"73542","units":1,"charge":120.0"#.to_string()),
                6..=25 => {
                    lines.push(r#""procedure":"G0260","units":1,"charge":380.0"#.to_string());
                    if rng.chance(80) {
                        lines.push(r#""procedure":"77003","units":1,"charge":90.0"#.to_string());
                    }
                }
                _ => lines.push(
                    r#""procedure":"27096","units":1,"site":"left-sacroiliac","charge":410.0"#
                        .to_string(),
                ),
            }
            if rng.chance(70) {
                lines.push(r#""procedure":"J1040","units":1,"charge":14.0"#.to_string());
            }
            lines.push(r#""procedure":"J2001","units":1,"charge":3.0"#.to_string());
            let mut facts = Vec::new();
            if rng.chance(90) {
                facts.push(format!(
                    "\"conservative_therapy_months\":{}",
                    1 + rng.below(8)
                ));
            }
            (
                patient_of(payer, rng, pool),
                vec![rng.pick(&["M46.1", "M53.3"])],
                facts,
                lines,
            )
        }
    };
    let lines: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(n, body)| format!(r#"{{"line":{},"date_of_service":"{dos}",{body}}}"#, n + 1))
        .collect();
    let taxonomy = if kind == "acupuncture" && rng.chance(5) {
        "111N00000X"
    } else if kind == "therapy" {
        "225100000X"
    } else {
        "208VP0014X"
    };
    let facts = if facts.is_empty() {
        String::new()
    } else {
        format!(r#","facts":{{{}}}"#, facts.join(","))
    };
    let diagnoses: Vec<String> = dx.iter().map(|d| format!("\"{d}\"")).collect();
    Some(format!(
        r#"{{"id":"CLM-{i:07}","payer":"{}","patient":{{"id":"{patient}","birth_date":"1951-09-03","sex":"M"}},"provider":{{"npi":"1234567893","taxonomy":"{taxonomy}"}},"place_of_service":"11","diagnoses":[{}]{facts},"lines":[{}]}}"#,
        payer.id,
        diagnoses.join(","),
        lines.join(",")
    ))
}

/// A patient of the payer's whole pool.
fn patient_of(payer: &Payer, rng: &mut Rng, pool: u64) -> String {
    format!("{}-{:06}", payer.prefix, rng.below(pool))
}

fn main() -> io::Result<()> {
    let x12 = std::env::args().any(|a| a == "--x12");
    let mut args = std::env::args().skip(1).filter(|a| a != "--x12");
    let count: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let mut rng = Rng(seed);
    // About four claims per patient over the batch's two years.
    let patients = (count / 4).max(1);
    let out = BufWriter::new(io::stdout().lock());
    let mut out = if x12 {
        Sink::X12 {
            writer: X12Writer::new(out, None),
            left_out: 0,
        }
    } else {
        Sink::Json(out)
    };
    for i in 0..count {
        // Dates advance with the claim index so that the batch arrives in order.
        let day = i * 700 / count.max(1) + rng.below(3);
        let dos = date(day);
        let payer = pick_payer(&mut rng);
        let pool = (patients * payer.share / 100).max(1);
        let patient = format!("{}-{:06}", payer.prefix, rng.below(pool));
        if let Some(claim) = other_claim(&mut rng, payer, i, &dos, pool) {
            out.emit(&claim)?;
            continue;
        }
        let mut dx = vec![if rng.chance(85) {
            rng.pick(payer.covered)
        } else {
            rng.pick(OTHER_DX)
        }];
        if rng.chance(40) {
            dx.push(rng.pick(OTHER_DX));
        }
        let tpi = if rng.chance(60) { "20553" } else { "20552" };
        // 20552 is 1-2 muscles, 20553 3 or more; a few lines disagree with their code.
        let mut muscles = if tpi == "20553" {
            3 + u64::from(rng.chance(30)) + u64::from(rng.chance(10))
        } else {
            1 + rng.below(2)
        };
        if rng.chance(3) {
            muscles = if tpi == "20553" { 2 } else { 3 };
        }
        // Usually one injection per muscle, sometimes two in one muscle.
        let injections = muscles + u64::from(rng.chance(15));
        let site = if rng.chance(5) {
            String::new()
        } else {
            format!(r#","site":"{}""#, rng.pick(SITES))
        };
        let units = if rng.chance(4) { 2 } else { 1 };
        let mods = if rng.chance(3) {
            r#"["50"]"#
        } else if rng.chance(5) {
            r#"["59"]"#
        } else {
            "[]"
        };
        let mut lines = vec![format!(
            r#"{{"line":1,"date_of_service":"{dos}","procedure":"{tpi}","modifiers":{mods},"units":{units},"diagnosis_pointers":[1]{site},"muscles":{muscles},"injections":{injections},"charge":182.5}}"#
        )];
        let push = |lines: &mut Vec<String>, body: String| {
            let n = lines.len() + 1;
            lines.push(format!(
                r#"{{"line":{n},"date_of_service":"{dos}",{body}}}"#
            ));
        };
        if !rng.chance(8) {
            // The injectate: usually a local anesthetic or corticosteroid; now and
            // then saline or an unclassified drug.
            let drug = match rng.below(100) {
                0..=2 => "J7050",
                3..=4 => "J3490",
                _ => rng.pick(DRUGS),
            };
            push(
                &mut lines,
                format!(r#""procedure":"{drug}","units":1,"charge":12.0"#),
            );
        }
        let extra = rng.below(100);
        let extra_code = match extra {
            0..=3 => Some("76942"),
            4..=5 => Some("77002"),
            6..=7 => Some("01992"),
            8..=10 => Some("20560"),
            11..=12 => Some("97810"),
            13..=15 => Some(if tpi == "20553" { "20552" } else { "20553" }),
            _ => None,
        };
        if let Some(code) = extra_code {
            push(&mut lines, format!(r#""procedure":"{code}","units":1"#));
        }
        if rng.chance(12) {
            // An office visit the same day: usually with modifier 25.
            let mods = if rng.chance(70) { r#"["25"]"# } else { "[]" };
            let visit = rng.pick(&["99203", "99213", "99214"]);
            push(
                &mut lines,
                format!(r#""procedure":"{visit}","modifiers":{mods},"units":1,"charge":110.0"#),
            );
        }
        let facts = facts(&mut rng, payer.id);
        let facts = if facts.is_empty() {
            String::new()
        } else {
            format!(r#","facts":{{{}}}"#, facts.join(","))
        };
        let diagnoses: Vec<String> = dx.iter().map(|d| format!("\"{d}\"")).collect();
        if rng.chance(1) {
            // A malformed claim: units 0. It must come back as an error record.
            out.emit(&format!(
                r#"{{"id":"CLM-{i:07}","payer":"{}","patient":{{"id":"{patient}"}},"diagnoses":[{}],"lines":[{{"date_of_service":"{dos}","procedure":"{tpi}","units":0}}]}}"#,
                payer.id,
                diagnoses.join(",")
            ))?;
            continue;
        }
        out.emit(&format!(
            r#"{{"id":"CLM-{i:07}","payer":"{}","patient":{{"id":"{patient}","birth_date":"1961-05-14","sex":"F"}},"provider":{{"npi":"1234567893","taxonomy":"208VP0014X"}},"place_of_service":"11","diagnoses":[{}]{facts},"lines":[{}]}}"#,
            payer.id,
            diagnoses.join(","),
            lines.join(",")
        ))?;
    }
    out.finish()
}
