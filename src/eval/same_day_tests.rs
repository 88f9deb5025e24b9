//! Tests of `some/no other service on same day (...)` on its boundaries: the
//! primary code of an add-on on this claim (before and after the add-on
//! line), on an earlier claim of the member, under another payer, a day off,
//! denied, replaced or voided; run against each store (in memory, SQLite and,
//! with the `postgres` feature, PostgreSQL), the durable ones deciding each
//! claim in a batch of its own, as the command line does.

use super::ledger_tests::Probe;
use super::support_tests::per_store;
use super::*;

/// An add-on edit (64484 needs 64483 on its date), a `no` with a site, and a
/// rule that denies a 64483 of more than one unit, for payers `p` and `q`.
const POLICY: &str = "policy t \"test\" {\n payer p, q\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n \
    codes primary = cpt 64483\n codes addon = cpt 64484\n codes visit = cpt 99213\n \
    rule ADD { when line.procedure in addon\n require some other service on same day (other.procedure in primary)\n else deny CO-B15 rarc N122 }\n \
    rule SITE { when line.procedure in visit\n require no other service on same day (other.procedure in primary and other.site == line.site)\n else review CO-252 rarc N706 }\n \
    rule D { when line.procedure in primary and line.units > 1 deny CO-151 rarc N362 }\n}\n";

fn policies() -> Policies {
    support_tests::checked(
        Policies::from_source("t.policy", POLICY),
        support_tests::no_errors,
    )
}

const DAY: &str = "2025-03-10";

/// A claim of member `patient` of `payer` with `lines` (date, code, units,
/// site); `extra` adds claim fields.
fn claim(
    id: &str,
    payer: &str,
    patient: &str,
    extra: &str,
    lines: &[(&str, &str, u32, &str)],
) -> Claim {
    let lines: Vec<String> = lines
        .iter()
        .map(|(date, code, units, site)| {
            let site = if site.is_empty() {
                String::new()
            } else {
                format!(r#","site":"{site}""#)
            };
            format!(r#"{{"date_of_service":"{date}","procedure":"{code}","units":{units}{site}}}"#)
        })
        .collect();
    let text = format!(
        r#"{{"id":"{id}","payer":"{payer}","patient":{{"id":"{patient}"}},"diagnoses":["M54.50"]{extra},"lines":[{}]}}"#,
        lines.join(",")
    );
    support_tests::read_claim(&text)
}

/// The decisions of a claim's lines, in order (`allow`, `deny`, `review`).
fn decide<H: Probe>(e: &mut Engine<H>, c: &Claim) -> Vec<&'static str> {
    match H::run(e, c).outcome {
        Outcome::Decision(d) => d.lines.iter().map(|l| l.decision.as_str()).collect(),
        Outcome::Error(err) => panic!("{}: {:?}", c.id, err.error),
    }
}

/// The add-on alone on `DAY`, for member `patient` of payer `p`.
fn add_on(id: &str, patient: &str) -> Claim {
    claim(id, "p", patient, "", &[(DAY, "64484", 1, "")])
}

fn the_primary_on_the_same_claim_counts_before_and_after_the_add_on<H: Probe>(mut e: Engine<H>) {
    let before = claim(
        "C1",
        "p",
        "A",
        "",
        &[(DAY, "64483", 1, ""), (DAY, "64484", 1, "")],
    );
    assert_eq!(decide(&mut e, &before), ["allow", "allow"]);
    let after = claim(
        "C1",
        "p",
        "B",
        "",
        &[(DAY, "64484", 1, ""), (DAY, "64483", 1, "")],
    );
    assert_eq!(decide(&mut e, &after), ["allow", "allow"]);
    // A line of the claim counts whatever the rules decide for it.
    let denied = claim(
        "C1",
        "p",
        "C",
        "",
        &[(DAY, "64483", 2, ""), (DAY, "64484", 1, "")],
    );
    assert_eq!(decide(&mut e, &denied), ["deny", "allow"]);
    // On the claim, but on another date: not the same day.
    let next_day = claim(
        "C1",
        "p",
        "D",
        "",
        &[("2025-03-11", "64483", 1, ""), (DAY, "64484", 1, "")],
    );
    assert_eq!(decide(&mut e, &next_day), ["allow", "deny"]);
    // Alone.
    assert_eq!(decide(&mut e, &add_on("C1", "E")), ["deny"]);
}

fn the_primary_on_an_earlier_claim_counts_on_its_date_only<H: Probe>(mut e: Engine<H>) {
    for (patient, date, want) in [
        ("A", DAY, "allow"),
        ("B", "2025-03-09", "deny"),
        ("C", "2025-03-11", "deny"),
    ] {
        let earlier = claim("H", "p", patient, "", &[(date, "64483", 1, "")]);
        assert_eq!(decide(&mut e, &earlier), ["allow"]);
        assert_eq!(decide(&mut e, &add_on("C", patient)), [want], "{date}");
    }
    // A later claim of the primary does not reach back.
    assert_eq!(decide(&mut e, &add_on("C", "D")), ["deny"]);
    let later = claim("H", "p", "D", "", &[(DAY, "64483", 1, "")]);
    assert_eq!(decide(&mut e, &later), ["allow"]);
    // Sent again once the primary is in, the add-on is paid.
    let again = claim(
        "C2",
        "p",
        "D",
        r#","frequency_code":"7","replaces":"C""#,
        &[(DAY, "64484", 1, "")],
    );
    assert_eq!(decide(&mut e, &again), ["allow"]);
}

fn the_primary_under_another_payer_does_not_count<H: Probe>(mut e: Engine<H>) {
    let elsewhere = claim("H", "q", "A", "", &[(DAY, "64483", 1, "")]);
    assert_eq!(decide(&mut e, &elsewhere), ["allow"]);
    assert_eq!(decide(&mut e, &add_on("C", "A")), ["deny"]);
    // The other payer's own add-on sees it.
    let theirs = claim("C", "q", "A", "", &[(DAY, "64484", 1, "")]);
    assert_eq!(decide(&mut e, &theirs), ["allow"]);
}

fn a_primary_denied_earlier_does_not_count<H: Probe>(mut e: Engine<H>) {
    let denied = claim("H", "p", "A", "", &[(DAY, "64483", 2, "")]);
    assert_eq!(decide(&mut e, &denied), ["deny"]);
    assert_eq!(decide(&mut e, &add_on("C", "A")), ["deny"]);
}

fn a_replaced_or_voided_primary_does_not_count<H: Probe>(mut e: Engine<H>) {
    // Replaced by a claim without it, then by one with it again.
    let h = claim("H", "p", "A", "", &[(DAY, "64483", 1, "")]);
    assert_eq!(decide(&mut e, &h), ["allow"]);
    let without = claim(
        "R1",
        "p",
        "A",
        r#","frequency_code":"7","replaces":"H""#,
        &[(DAY, "99213", 1, "")],
    );
    assert_eq!(decide(&mut e, &without), ["allow"]);
    assert_eq!(decide(&mut e, &add_on("C1", "A")), ["deny"]);
    let with = claim(
        "R2",
        "p",
        "A",
        r#","frequency_code":"7","replaces":"R1""#,
        &[(DAY, "64483", 1, "")],
    );
    assert_eq!(decide(&mut e, &with), ["allow"]);
    assert_eq!(decide(&mut e, &add_on("C2", "A")), ["allow"]);
    // Voided.
    let h = claim("H", "p", "B", "", &[(DAY, "64483", 1, "")]);
    assert_eq!(decide(&mut e, &h), ["allow"]);
    let void = claim(
        "V",
        "p",
        "B",
        r#","frequency_code":"8","replaces":"H""#,
        &[(DAY, "64483", 1, "")],
    );
    assert_eq!(decide(&mut e, &void), Vec::<&str>::new());
    assert_eq!(decide(&mut e, &add_on("C", "B")), ["deny"]);
}

fn no_other_service_reads_the_site_of_earlier_claims<H: Probe>(mut e: Engine<H>) {
    let h = claim("H", "p", "A", "", &[(DAY, "64483", 1, "lumbar")]);
    assert_eq!(decide(&mut e, &h), ["allow"]);
    let visit = |id: &str, site: &str| claim(id, "p", "A", "", &[(DAY, "99213", 1, site)]);
    assert_eq!(decide(&mut e, &visit("V1", "lumbar")), ["review"]);
    assert_eq!(decide(&mut e, &visit("V2", "cervical")), ["allow"]);
    // A missing site is not equal to any site (comparisons with a missing
    // value are false).
    assert_eq!(decide(&mut e, &visit("V3", "")), ["allow"]);
}

per_store!(
    "same-day":
    the_primary_on_the_same_claim_counts_before_and_after_the_add_on,
    the_primary_on_an_earlier_claim_counts_on_its_date_only,
    the_primary_under_another_payer_does_not_count,
    a_primary_denied_earlier_does_not_count,
    a_replaced_or_voided_primary_does_not_count,
    no_other_service_reads_the_site_of_earlier_claims,
);

/// A primary stored in a file by one run counts for the add-on of the next.
#[test]
fn a_primary_stored_by_an_earlier_run_counts() {
    let dir = support_tests::fresh_dir("same-day-run");
    let open = || Engine::with_history(policies(), support_tests::history_file(&dir));
    let mut first = open();
    let h = claim("H", "p", "A", "", &[(DAY, "64483", 1, "lumbar")]);
    assert_eq!(decide(&mut first, &h), ["allow"]);
    drop(first);
    let mut second = open();
    assert_eq!(decide(&mut second, &add_on("C", "A")), ["allow"]);
    let visit = claim("V", "p", "A", "", &[(DAY, "99213", 1, "lumbar")]);
    assert_eq!(decide(&mut second, &visit), ["review"], "the stored site");
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A member with a book large enough to be indexed: the day's services are
/// found from the index, their sites by name.
#[test]
fn a_member_with_many_services_is_looked_up_by_day_in_the_index() {
    let mut e = Engine::new(policies());
    // 300 services over 100 days: visits, and a lumbar 64483 on every
    // fifth day.
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
    for n in 0..300u64 {
        let date = (start + chrono::Days::new(n / 3)).to_string();
        let (code, site) = if n % 15 == 0 {
            ("64483", "lumbar")
        } else {
            ("99213", "cervical")
        };
        e.record_prior(&claim("H", "p", "A", "", &[(&date, code, 1, site)]));
    }
    assert!(e.history().window(Member::new("p", "A")).indexed());
    for n in 0..100u64 {
        let date = (start + chrono::Days::new(n)).to_string();
        let primary = n % 5 == 0;
        let c = claim(
            &format!("C{n}"),
            "p",
            "A",
            "",
            &[(&date, "64484", 1, ""), (&date, "99213", 1, "lumbar")],
        );
        let want = if primary {
            ["allow", "review"]
        } else {
            ["deny", "allow"]
        };
        assert_eq!(decide(&mut e, &c), want, "{date}");
    }
}
