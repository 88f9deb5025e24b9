//! Tests of the claim ledger: replays, conflicts, replacements and voids,
//! one set of cases run against each store: in memory, SQLite and (with the
//! `postgres` feature) PostgreSQL, the durable ones deciding each claim in a
//! batch of its own, as the command line and the service do.

use super::support_tests::per_store;
use super::*;

const POLICY: &str = "policy t \"test\" {\n payer p\n version \"1\"\n effective 2024-01-01..\n source \"test\"\n codes tpi = cpt 20552, 20553\n rule D { when line.procedure in tpi limit tpi to 1 per 30 days else deny CO-97 }\n}\n";

fn policies() -> Policies {
    support_tests::checked(
        Policies::from_source("t.policy", POLICY),
        support_tests::no_errors,
    )
}

/// [`POLICY`] answering to payers `p` and `q` too.
fn engine_of_two_payers() -> Engine {
    let text = POLICY.replace(" payer p\n", " payer p, q\n");
    Engine::new(support_tests::checked(
        Policies::from_source("t.policy", &text),
        support_tests::no_errors,
    ))
}

/// A claim of patient `patient` with one TPI line on `date`; `extra` adds
/// fields (`"frequency_code":"7"`, ...).
fn claim(id: &str, patient: &str, date: &str, extra: &str) -> Claim {
    let text = format!(
        r#"{{"id":"{id}","payer":"p","patient":{{"id":"{patient}"}},"diagnoses":["M79.18"],"lines":[{{"date_of_service":"{date}","procedure":"20552"}}]{extra}}}"#
    );
    support_tests::read_claim(&text)
}

fn run<H: Probe>(e: &mut Engine<H>, c: &Claim) -> Evaluated {
    H::run(e, c)
}

fn decision(ev: &Evaluated) -> String {
    match &ev.outcome {
        Outcome::Decision(d) => d.decision.as_str().to_string(),
        Outcome::Error(e) => e.error.kind.as_str().to_string(),
    }
}

fn services<H: Probe>(e: &Engine<H>, patient: &str) -> usize {
    H::dates(e, patient).len()
}

fn the_same_claim_twice_is_answered_from_the_ledger_and_counts_once<H: Probe>(mut e: Engine<H>) {
    let c = claim("C1", "P", "2025-01-01", "");
    let first = run(&mut e, &c);
    let again = run(&mut e, &c);
    assert_eq!(decision(&first), "allow");
    assert!(again.replayed && !first.replayed);
    assert_eq!(
        first.json(),
        again.json(),
        "the stored decision, byte for byte"
    );
    assert_eq!(services(&e, "P"), 1);
    // A later session in the window still sees one earlier session, not two.
    let next = run(&mut e, &claim("C2", "P", "2025-01-10", ""));
    assert_eq!(decision(&next), "deny");
}

fn other_content_under_a_stored_id_is_a_conflict_that_changes_nothing<H: Probe>(mut e: Engine<H>) {
    run(&mut e, &claim("C1", "P", "2025-01-01", ""));
    let other = run(&mut e, &claim("C1", "P", "2025-03-01", ""));
    let Outcome::Error(err) = &other.outcome else {
        panic!("{}", other.json())
    };
    assert_eq!(err.error.kind, ErrorKind::Conflict);
    assert_eq!(err.error.path.as_deref(), Some("id"));
    assert_eq!(services(&e, "P"), 1);
    // The same id for another patient is another claim.
    assert_eq!(
        decision(&run(&mut e, &claim("C1", "Q", "2025-03-01", ""))),
        "allow"
    );
}

fn a_replacement_takes_the_earlier_services_out_and_is_evaluated_instead<H: Probe>(
    mut e: Engine<H>,
) {
    run(&mut e, &claim("C1", "P", "2025-01-01", ""));
    // Same id, frequency 7: replaces itself. Without the replacement the
    // 2025-01-05 session would be the second in 30 days.
    let r = run(
        &mut e,
        &claim("C1", "P", "2025-01-05", r#","frequency_code":"7""#),
    );
    assert_eq!(decision(&r), "allow", "{}", r.json());
    assert_eq!(services(&e, "P"), 1);
    assert_eq!(H::dates(&e, "P")[0], "2025-01-05");
    // A replacement with its own id names the claim it replaces.
    let r2 = run(
        &mut e,
        &claim(
            "C1-R",
            "P",
            "2025-01-06",
            r#","frequency_code":7,"replaces":"C1""#,
        ),
    );
    assert_eq!(decision(&r2), "allow", "{}", r2.json());
    assert_eq!(services(&e, "P"), 1);
    let versions = e.history().versions(Member::new("p", "P"), "C1");
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].status, Status::Replaced);
    assert_eq!(versions[1].status, Status::Replaced);
    assert_eq!(e.history().replaced_by(&versions[1]), Some("C1-R"));
    // The original, sent again, is answered as it was and changes nothing.
    let orig = run(&mut e, &claim("C1", "P", "2025-01-01", ""));
    assert!(orig.replayed);
    assert_eq!(services(&e, "P"), 1);
    // Replacing C1 again is a conflict: C1-R stands for it now.
    let late = run(
        &mut e,
        &claim(
            "C1-S",
            "P",
            "2025-01-07",
            r#","frequency_code":"7","replaces":"C1""#,
        ),
    );
    assert_eq!(decision(&late), "conflict", "{}", late.json());
    assert!(
        late.json().contains("already replaced by claim `C1-R`"),
        "{}",
        late.json()
    );
}

fn a_void_takes_the_services_out_and_is_answered_void<H: Probe>(mut e: Engine<H>) {
    run(&mut e, &claim("C1", "P", "2025-01-01", ""));
    let v = run(
        &mut e,
        &claim(
            "V1",
            "P",
            "2025-01-01",
            r#","frequency_code":"8","replaces":"C1""#,
        ),
    );
    assert_eq!(decision(&v), "void", "{}", v.json());
    assert!(
        v.json().contains(r#""decision":"void","lines":[]"#),
        "{}",
        v.json()
    );
    assert_eq!(services(&e, "P"), 0);
    assert_eq!(
        decision(&run(&mut e, &claim("C2", "P", "2025-01-02", ""))),
        "allow"
    );
    // Sending the void again changes nothing; replacing a voided claim is a conflict.
    assert!(
        run(
            &mut e,
            &claim(
                "V1",
                "P",
                "2025-01-01",
                r#","frequency_code":"8","replaces":"C1""#
            )
        )
        .replayed
    );
    let r = run(
        &mut e,
        &claim("C1", "P", "2025-01-03", r#","frequency_code":"7""#),
    );
    assert!(
        r.json().contains("already voided by claim `V1`"),
        "{}",
        r.json()
    );
    // A void is not replaced or voided itself.
    let vv = run(
        &mut e,
        &claim(
            "V2",
            "P",
            "2025-01-01",
            r#","frequency_code":"8","replaces":"V1""#,
        ),
    );
    assert!(vv.json().contains("is a void"), "{}", vv.json());
}

fn a_replacement_or_void_of_an_unknown_claim<H: Probe>(mut e: Engine<H>) {
    // Evaluated as an original: there is nothing to take out.
    let r = run(
        &mut e,
        &claim(
            "R1",
            "P",
            "2025-01-01",
            r#","frequency_code":"7","replaces":"NOPE""#,
        ),
    );
    assert_eq!(decision(&r), "allow", "{}", r.json());
    assert_eq!(services(&e, "P"), 1);
    // A void of an unknown claim changes nothing but is kept: the same void
    // again is answered from the ledger.
    let v = run(
        &mut e,
        &claim(
            "V1",
            "P",
            "2025-01-01",
            r#","frequency_code":"8","replaces":"NOPE2""#,
        ),
    );
    assert_eq!(decision(&v), "void");
    assert_eq!(services(&e, "P"), 1);
}

fn imported_claims_count_can_be_replaced_and_are_not_imported_twice<H: Probe>(mut e: Engine<H>) {
    let paid = claim("H1", "P", "2025-01-01", "");
    assert_eq!(H::import(&mut e, &paid), Imported::Added);
    assert_eq!(H::import(&mut e, &paid), Imported::Present);
    assert_eq!(
        H::import(&mut e, &claim("H1", "P", "2025-02-01", "")),
        Imported::Conflict
    );
    assert_eq!(services(&e, "P"), 1);
    let same = run(&mut e, &paid);
    assert_eq!(decision(&same), "conflict");
    assert!(same.json().contains("imported"), "{}", same.json());
    assert_eq!(
        decision(&run(&mut e, &claim("C2", "P", "2025-01-10", ""))),
        "deny"
    );
    let r = run(
        &mut e,
        &claim("H1", "P", "2025-03-01", r#","frequency_code":"7""#),
    );
    assert_eq!(decision(&r), "allow", "{}", r.json());
    assert_eq!(services(&e, "P"), 1);
}

fn a_claim_without_a_policy_changes_nothing<H: Probe>(mut e: Engine<H>) {
    run(&mut e, &claim("C1", "P", "2025-01-01", ""));
    let text = r#"{"id":"X","payer":"nobody","patient":{"id":"P"},"diagnoses":["M79.18"],"frequency_code":"8","replaces":"C1","lines":[{"date_of_service":"2025-01-01","procedure":"20552"}]}"#;
    let c = support_tests::read_claim(text);
    assert_eq!(decision(&run(&mut e, &c)), "no_policy");
    assert_eq!(services(&e, "P"), 1, "the void did not happen");
}

#[test]
fn content_hashes_ignore_spelling_and_see_every_field() {
    let a = claim("C1", "P", "2025-01-01", "");
    let b = support_tests::read_claim(
        r#"{"lines":[{"procedure":"20552","date_of_service":"2025-01-01","line":1,"units":1}],"diagnoses":["M7918"],"patient":{"id":"P"},"payer":"p","id":"C1","frequency_code":1}"#,
    );
    assert_eq!(ContentHash::of(&a), ContentHash::of(&b));
    let c = claim("C1", "P", "2025-01-02", "");
    assert_ne!(ContentHash::of(&a), ContentHash::of(&c));
    let d = claim("C1", "P", "2025-01-01", r#","frequency_code":"7""#);
    assert_ne!(ContentHash::of(&a), ContentHash::of(&d));
    // Stable across runs and versions: a fixed claim has a fixed hash, which
    // databases keep. Changing it orphans every stored claim.
    assert_eq!(
        ContentHash::of(&a).hex(),
        "3837ee7ee3ed08c88cad5fb4e1f00954"
    );
    // A claim whose encoding outgrows the hash's buffer on the stack is
    // hashed from the same bytes.
    let long_facts: String = (0..40)
        .map(|i| format!(r#","fact_{i}":"{}""#, "x".repeat(40)))
        .collect();
    let long = |date: &str| {
        let facts = format!(r#","facts":{{"a":1{long_facts}}}"#);
        claim("C1", "P", date, &facts)
    };
    let (e, f) = (long("2025-01-01"), long("2025-01-02"));
    let mut bytes = Vec::new();
    crate::history::canonical_bytes(&e, &mut bytes);
    assert!(bytes.len() > 1024, "{}", bytes.len());
    assert_eq!(
        ContentHash::of(&e).0,
        xxhash_rust::xxh3::xxh3_128(&bytes).to_le_bytes()
    );
    assert_ne!(ContentHash::of(&e), ContentHash::of(&f));
    let mut short = Vec::new();
    crate::history::canonical_bytes(&a, &mut short);
    assert_eq!(
        ContentHash::of(&a).0,
        xxhash_rust::xxh3::xxh3_128(&short).to_le_bytes()
    );
    // The buffer is the thread's, reused: what a longer claim left in it
    // past the end of a shorter one's encoding is not hashed.
    let longer = claim(
        "C1",
        "P",
        "2025-01-01",
        &format!(r#","facts":{{"a":"{}"}}"#, "y".repeat(300)),
    );
    let _ = ContentHash::of(&longer);
    assert_eq!(
        ContentHash::of(&a).0,
        xxhash_rust::xxh3::xxh3_128(&short).to_le_bytes()
    );
}

/// What the shared cases need of a store beyond [`HistoryStore`].
pub(super) trait Probe: HistoryStore + Sized {
    /// Decides one claim (for a durable store: in a batch of its own).
    fn run(e: &mut Engine<Self>, c: &Claim) -> Evaluated;
    /// The member's counted services' dates, by date.
    fn dates(e: &Engine<Self>, patient: &str) -> Vec<String>;
    /// Imports a paid claim.
    fn import(e: &mut Engine<Self>, c: &Claim) -> Imported;
}

impl Probe for MemoryHistory {
    fn run(e: &mut Engine<Self>, c: &Claim) -> Evaluated {
        let Ok(done) = e.try_evaluate(c, 1);
        done
    }

    fn dates(e: &Engine<Self>, patient: &str) -> Vec<String> {
        let mut dates: Vec<String> = e
            .history()
            .services(Member::new("p", patient))
            .iter()
            .map(|s| s.date().to_string())
            .collect();
        dates.sort();
        dates
    }

    fn import(e: &mut Engine<Self>, c: &Claim) -> Imported {
        let Ok(done) = e.import(c);
        done
    }
}

impl Probe for crate::history::HistoryDb {
    fn run(e: &mut Engine<Self>, c: &Claim) -> Evaluated {
        let mut batch = e.begin().unwrap();
        batch.decide_all([(1, Ok(c.clone()))]).unwrap();
        batch.commit().unwrap().remove(0)
    }

    fn dates(e: &Engine<Self>, patient: &str) -> Vec<String> {
        let rows = e.history().services_of(Some("p"), patient).unwrap();
        rows.iter().map(|s| s.date.to_string()).collect()
    }

    fn import(e: &mut Engine<Self>, c: &Claim) -> Imported {
        let mut batch = e.begin().unwrap();
        let done = batch.import(c).unwrap();
        batch.commit().unwrap();
        done
    }
}

per_store!(
    "ledger":
    the_same_claim_twice_is_answered_from_the_ledger_and_counts_once,
    other_content_under_a_stored_id_is_a_conflict_that_changes_nothing,
    a_replacement_takes_the_earlier_services_out_and_is_evaluated_instead,
    a_void_takes_the_services_out_and_is_answered_void,
    a_replacement_or_void_of_an_unknown_claim,
    imported_claims_count_can_be_replaced_and_are_not_imported_twice,
    a_claim_without_a_policy_changes_nothing,
);

/// The ledger's identity of a claim is (payer, member, claim id), and each
/// payer counts its own claims only: the same claim id of the same member id
/// under another payer is another claim, neither a replay nor a conflict, and
/// the other payer's session does not count toward this payer's limit.
#[test]
fn the_same_member_and_claim_id_under_another_payer_is_another_claim() {
    let mut e = engine_of_two_payers();
    let p = claim("C1", "P", "2025-01-01", "");
    assert_eq!(decision(&run(&mut e, &p)), "allow");
    let q = Claim {
        payer: "q".into(),
        ..claim("C1", "P", "2025-01-02", "")
    };
    let first = run(&mut e, &q);
    assert!(!first.replayed);
    assert_eq!(decision(&first), "allow", "{}", first.json());
    // Each payer's history holds its own session.
    let of = |payer| e.history().services(Member::new(payer, "P")).len();
    assert_eq!((of("p"), of("q")), (1, 1));
    // A second session in 30 days is denied under the payer that saw the
    // first, whichever payer's claim came in between.
    assert_eq!(
        decision(&run(&mut e, &claim("C2", "P", "2025-01-10", ""))),
        "deny"
    );
    // A replacement under q acts on q's C1 alone.
    let r = Claim {
        payer: "q".into(),
        ..claim("C1", "P", "2025-01-03", r#","frequency_code":"7""#)
    };
    assert_eq!(decision(&run(&mut e, &r)), "allow");
    let p_versions = e.history().versions(Member::new("p", "P"), "C1");
    assert_eq!(p_versions.len(), 1);
    assert_eq!(p_versions[0].status, Status::Active);
}
