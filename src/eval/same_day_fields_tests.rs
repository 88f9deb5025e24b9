//! Tests of what `other.` reads inside `some/no other service on same day
//! (...)` besides the code and the site: `other.units`, `other.charge`,
//! `other.region` and `other.modifiers`, each read of another line of the same claim and of a
//! service of an earlier claim, on their boundaries (units at a threshold
//! and with modifier 50, a charge at a threshold, a service without a
//! charge, a code in no region); run against each store, the durable ones
//! deciding each claim in a batch of its own, a SQLite file read again by a
//! second run, and a book large enough to be indexed.

use super::ledger_tests::Probe;
use super::support_tests::per_store;
use super::*;

/// Rules that read each kept field of a same-day service, for payer `p`:
/// `U` the units of a TPI, `C` and `C0` its charge (over 100.10, and none),
/// `R` the region of another epidural, `NR` an injection in no region (a
/// TPI; guidance, the line's own code, is in no region too), `M` a TPI
/// billed with 59 or XS.
const POLICY: &str = "policy t \"test\" {\n payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n \
    codes esi = cpt 62320, 62321, 62322, 62323, 64479, 64480, 64483, 64484\n \
    codes tpi = cpt 20552, 20553\n codes guidance = cpt 77003\n codes visit = cpt 99213\n \
    codes injected = cpt 62320, 62321, 62322, 62323, 64479, 64480, 64483, 64484, 20552, 20553\n \
    region cervical_thoracic = cpt 62320, 62321, 64479, 64480\n \
    region lumbar_sacral = cpt 62322, 62323, 64483, 64484\n \
    rule U { when line.procedure in guidance\n when some other service on same day (other.procedure in tpi and other.units >= 3)\n deny CO-50 rarc N115 }\n \
    rule C { when line.procedure in visit\n when some other service on same day (other.procedure in tpi and other.charge > 100.10)\n review CO-252 rarc N706 }\n \
    rule C0 { when line.procedure in visit\n when some other service on same day (other.procedure in tpi and other.charge is missing)\n review CO-252 rarc N706 }\n \
    rule R { when line.procedure in esi\n when some other service on same day (other.procedure in esi and other.region == line.region)\n review CO-252 rarc N706 }\n \
    rule NR { when line.procedure in guidance\n when some other service on same day (other.procedure in injected and other.region is missing)\n review CO-252 rarc N706 }\n \
    rule M { when line.procedure in guidance\n when some other service on same day (other.procedure in tpi and other.modifiers any in [\"59\", \"XS\"])\n review CO-252 rarc N706 }\n}\n";

fn policies() -> Policies {
    support_tests::checked(Policies::from_source("t.policy", POLICY), |_| false)
}

const DAY: &str = "2025-03-10";

/// A claim of member `patient` with lines of (code, extra line fields), all
/// on `DAY`.
fn claim(id: &str, patient: &str, lines: &[(&str, &str)]) -> Claim {
    let lines: Vec<String> = lines
        .iter()
        .map(|(code, extra)| {
            format!(r#"{{"date_of_service":"{DAY}","procedure":"{code}"{extra}}}"#)
        })
        .collect();
    let text = format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"{patient}"}},"diagnoses":["M54.50"],"lines":[{}]}}"#,
        lines.join(",")
    );
    support_tests::read_claim(&text)
}

/// The rules that fired on each line of a claim, in order.
fn fired<H: Probe>(e: &mut Engine<H>, c: &Claim) -> Vec<Vec<String>> {
    match H::run(e, c).outcome {
        Outcome::Decision(d) => support_tests::rules_fired(&d),
        Outcome::Error(err) => panic!("{}: {:?}", c.id, err.error),
    }
}

/// The rules that fire on a line of `code` on `DAY`, when the other service
/// of the day is `other` (code, extra fields): `[on the same claim, on an
/// earlier claim]`. Each case is a member of its own (`patient` and a
/// number), so that the earlier claims of one do not reach another.
fn both_ways<H: Probe>(
    e: &mut Engine<H>,
    patient: &str,
    code: &str,
    other: (&str, &str),
) -> [Vec<String>; 2] {
    let same = fired(
        e,
        &claim("C", &format!("{patient}-same"), &[(code, ""), other]),
    );
    let earlier = format!("{patient}-earlier");
    let h = fired(e, &claim("H", &earlier, &[other]));
    assert_eq!(h, [Vec::<String>::new()], "the earlier claim is allowed");
    let later = fired(e, &claim("C", &earlier, &[(code, "")]));
    let first = |mut lines: Vec<Vec<String>>| {
        lines.truncate(1);
        lines.pop().unwrap_or_default()
    };
    [first(same), first(later)]
}

fn rules(names: &[&str]) -> [Vec<String>; 2] {
    let list: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    [list.clone(), list]
}

fn units_of_another_line_and_of_an_earlier_claim<H: Probe>(mut e: Engine<H>) {
    // NR fires on each: the TPI is in no region.
    for (n, (extra, want)) in [
        (r#","units":2"#, rules(&["NR"])),
        // Exactly at the threshold.
        (r#","units":3"#, rules(&["U", "NR"])),
        (r#","units":40"#, rules(&["U", "NR"])),
        // Modifier 50 is kept in the units' top bit: it is not read as units.
        (r#","units":2,"modifiers":["50"]"#, rules(&["NR"])),
        (r#","units":3,"modifiers":["50"]"#, rules(&["U", "NR"])),
    ]
    .into_iter()
    .enumerate()
    {
        let got = both_ways(&mut e, &format!("U{n}"), "77003", ("20552", extra));
        assert_eq!(got, want, "{extra}");
    }
}

fn charges_of_another_line_and_of_an_earlier_claim<H: Probe>(mut e: Engine<H>) {
    for (n, (extra, want)) in [
        // Exactly at the threshold: `>` does not hold, however the stores
        // keep 100.1 (a double, the decimal text in a database).
        (r#","charge":100.1"#, rules(&[])),
        (r#","charge":100.10"#, rules(&[])),
        (r#","charge":100.11"#, rules(&["C"])),
        (r#","charge":100.100000001"#, rules(&["C"])),
        (r#","charge":0"#, rules(&[])),
        // No charge: missing, so `> 100.10` is false and `is missing` holds.
        ("", rules(&["C0"])),
    ]
    .into_iter()
    .enumerate()
    {
        let got = both_ways(&mut e, &format!("C{n}"), "99213", ("20553", extra));
        assert_eq!(got, want, "{extra:?}");
    }
}

fn regions_of_another_line_and_of_an_earlier_claim<H: Probe>(mut e: Engine<H>) {
    for (n, (line, other, want)) in [
        // Two lumbar codes, two cervical ones: the same region.
        ("62322", "64483", rules(&["R"])),
        ("62321", "64479", rules(&["R"])),
        // The other service's region is its code's, not the line's.
        ("62322", "64479", rules(&[])),
        ("64479", "62322", rules(&[])),
        // A TPI is in no region: `other.region` is missing, equal to none.
        ("62322", "20552", rules(&[])),
        // Guidance with a TPI (in no region) and with an epidural (in one).
        ("77003", "20552", rules(&["NR"])),
        ("77003", "64483", rules(&[])),
    ]
    .into_iter()
    .enumerate()
    {
        let got = both_ways(&mut e, &format!("R{n}"), line, (other, ""));
        assert_eq!(got, want, "{line} with {other}");
    }
    // On one claim, each line reads the other's region (and so each fires),
    // and a third line of another region changes neither.
    let c = claim(
        "C",
        "R-three",
        &[("62322", ""), ("64479", ""), ("64483", "")],
    );
    assert_eq!(fired(&mut e, &c), [vec!["R"], vec![], vec!["R"]]);
}

fn modifiers_of_another_line_and_of_an_earlier_claim<H: Probe>(mut e: Engine<H>) {
    // NR fires on each: the TPI is in no region.
    for (n, (extra, want)) in [
        ("", rules(&["NR"])),
        (r#","modifiers":["XS"]"#, rules(&["NR", "M"])),
        // Modifier 50, kept apart too, is among the modifiers read.
        (r#","modifiers":["50","59"]"#, rules(&["NR", "M"])),
        (r#","modifiers":["GP","KX"]"#, rules(&["NR"])),
    ]
    .into_iter()
    .enumerate()
    {
        let got = both_ways(&mut e, &format!("M{n}"), "77003", ("20552", extra));
        assert_eq!(got, want, "{extra}");
    }
}

per_store!(
    "same-day-fields":
    units_of_another_line_and_of_an_earlier_claim,
    modifiers_of_another_line_and_of_an_earlier_claim,
    charges_of_another_line_and_of_an_earlier_claim,
    regions_of_another_line_and_of_an_earlier_claim,
);

/// Units, modifier 50 and charges stored in a file by one run are read by a
/// same-day quantifier of the next.
#[test]
fn units_and_charges_stored_by_an_earlier_run_are_read() {
    let dir = support_tests::fresh_dir("same-day-fields-run");
    let open = || Engine::with_history(policies(), support_tests::history_file(&dir));
    let mut first = open();
    let earlier = [
        ("A", r#","units":3,"charge":100.10"#),
        ("B", r#","units":2,"modifiers":["50"],"charge":100.11"#),
        ("C", ""),
    ];
    for (patient, extra) in earlier {
        let h = claim("H", patient, &[("20552", extra), ("64483", "")]);
        assert_eq!(fired(&mut first, &h), [Vec::<String>::new(), vec![]]);
    }
    drop(first);
    let mut second = open();
    for (patient, want) in [
        ("A", [vec!["U", "NR"], vec![], vec!["R"]]),
        ("B", [vec!["NR"], vec!["C"], vec!["R"]]),
        ("C", [vec!["NR"], vec!["C0"], vec!["R"]]),
    ] {
        let c = claim("C", patient, &[("77003", ""), ("99213", ""), ("62322", "")]);
        assert_eq!(fired(&mut second, &c), want, "member {patient}");
    }
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A member with a book large enough to be indexed: each service of the
/// day is found with its own units and charge, not only one per code and
/// site.
#[test]
fn a_member_with_many_services_is_read_service_by_service_from_the_index() {
    let mut e = Engine::new(policies());
    // 300 TPIs over 100 days, three a day at one site: on even days units
    // 1, 2 and 3 (one at the threshold), on odd days 1, 2 and 2; the
    // charges 50.00, 100.10 and, on every fifth day, 100.11 for the last.
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for n in 0..300u64 {
        let day = n / 3;
        let date = (start + chrono::Days::new(day)).to_string();
        let (units, charge) = match (n % 3, day % 2 == 0, day % 5 == 0) {
            (0, _, _) => (1, "50.00"),
            (1, _, _) => (2, "100.10"),
            (_, even, fifth) => (
                if even { 3 } else { 2 },
                if fifth { "100.11" } else { "100.10" },
            ),
        };
        let text = format!(
            r#"{{"id":"H{n}","payer":"p","patient":{{"id":"A"}},"diagnoses":["M54.50"],"lines":[{{"date_of_service":"{date}","procedure":"20552","units":{units},"charge":{charge},"site":"lumbar"}}]}}"#
        );
        let h = support_tests::read_claim(&text);
        e.record_prior(&h);
    }
    assert!(e.history().window(Member::new("p", "A")).indexed());
    for day in 0..101u64 {
        let date = (start + chrono::Days::new(day)).to_string();
        let text = format!(
            r#"{{"id":"C{day}","payer":"p","patient":{{"id":"A"}},"diagnoses":["M54.50"],"lines":[{{"date_of_service":"{date}","procedure":"77003"}},{{"date_of_service":"{date}","procedure":"99213"}}]}}"#
        );
        let c = support_tests::read_claim(&text);
        // Day 100 has no TPI.
        let tpis = day < 100;
        let mut guidance = Vec::new();
        let mut visit = Vec::new();
        if tpis && day % 2 == 0 {
            guidance.push("U");
        }
        if tpis {
            // A TPI is in no region.
            guidance.push("NR");
        }
        if tpis && day % 5 == 0 {
            visit.push("C");
        }
        assert_eq!(fired(&mut e, &c), [guidance, visit], "{date}");
    }
}
