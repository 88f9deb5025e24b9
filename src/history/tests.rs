//! Tests of the history: the memory store's books, windows and counts, the
//! ledger's versions, and content hashes.

use super::book::{ClaimIndex, Claims};

/// Member `id` of the payer the tests use, when one is enough.
fn m(id: &str) -> Member<'_> {
    Member::new("X", id)
}

#[test]
fn claim_index_finds_every_id_before_and_after_it_becomes_a_map() {
    let mut index = ClaimIndex::default();
    let mut h = MemoryHistory::new();
    let mut version =
        |seq| h.loaded_version(ContentHash([0; 16]), Status::Active, None, seq, false);
    for n in 0..40u64 {
        index.add(&format!("C{n}"), version(n));
        for m in 0..=n {
            let got = index.get(&format!("C{m}")).map(|v| v.as_slice()[0].seq);
            assert_eq!(got, Some(m), "after {n} inserts");
        }
        assert!(index.get("missing").is_none());
        assert_eq!(index.iter().count() as u64, n + 1);
        let is_map = matches!(index.claims, Claims::Many(_));
        assert_eq!(is_map, n as usize >= ClaimIndex::FEW, "after {n} inserts");
    }
    // A second version of an id, in the map and in a list.
    index.add("C3", version(99));
    assert_eq!(index.get("C3").map(|v| v.as_slice().len()), Some(2));
    let mut few = ClaimIndex::default();
    few.add("C1", version(1));
    few.add("C2", version(2));
    few.add("C1", version(3));
    let seqs = |i: &ClaimIndex, id| {
        i.get(id)
            .map(|v| v.as_slice().iter().map(|v| v.seq).collect::<Vec<_>>())
    };
    assert_eq!(seqs(&few, "C1"), Some(vec![1, 3]));
    assert_eq!(seqs(&few, "C2"), Some(vec![2]));
    assert_eq!(few.iter().count(), 2);
}

use super::*;
use crate::syntax::ast::CodeEntry;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn svc<'a>(d: &str, code: &str, site: Option<&'a str>) -> Service<'a> {
    Service::new(date(d), CodeKey::parse(code).unwrap_or_default(), site)
}

/// The two TPI codes, 20552 and 20553.
/// A repeatable generator for the property tests: `next(n)` is below `n`.
fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

fn tpi_codes() -> CodeSet {
    CodeSet::from_entries(&[
        CodeEntry::Code("20552".into()),
        CodeEntry::Code("20553".into()),
    ])
}

/// Every service of `set`, whatever its day or site.
fn everything(set: &CodeSet) -> Counted<'_> {
    Counted {
        modifiers: ModifierFilter::ANY,
        from: Day::MIN,
        to: Day::MAX,
        set,
        code: None,
        scope: None,
        site: SiteId::NONE,
    }
}

/// A generated service of the property tests: on one of the `days` days
/// from `base`, one of `codes`, at no site, `cervical` or `lumbar`.
fn generated_service(
    next: &mut impl FnMut(u64) -> u64,
    base: NaiveDate,
    days: u64,
    codes: &[&str],
) -> Service<'static> {
    let sites = [None, Some("cervical"), Some("lumbar")];
    let billed: [&[&str]; 4] = [&[], &["GP"], &["GO", "59"], &["KX", "GP", "XS"]];
    Service::new(
        base + chrono::Days::new(next(days)),
        CodeKey::parse(codes[next(codes.len() as u64) as usize]).unwrap_or_default(),
        sites[next(3) as usize],
    )
    .with_modifiers(ModifierCodes::of(billed[next(4) as usize].iter().copied()).unwrap_or_default())
}

/// A generated query of the property tests, of member `P`'s services of
/// `set`: from and to one of the `days` days from `base` (either first),
/// per code 20553 or not, by site or not, from a line at no site,
/// `cervical` or `thoracic` (a site no service has).
fn generated_query<'a>(
    next: &mut impl FnMut(u64) -> u64,
    set: &'a CodeSet,
    base: NaiveDate,
    days: u64,
) -> Query<'a> {
    let scopes = [None, Some(SiteScope::Strict), Some(SiteScope::OrUnsited)];
    let line_sites = [None, Some("cervical"), Some("thoracic")];
    // Every service half the time; else services with GP, with XS or 59
    // (`with modifier "XS" or "59"`), or with a modifier none has.
    let filters: [&[&str]; 3] = [&["GP"], &["XS", "59"], &["25"]];
    let modifiers = match next(6) {
        n @ 0..=2 => ModifierFilter::of(filters[n as usize].iter().copied()).unwrap_or_default(),
        _ => ModifierFilter::ANY,
    };
    Query {
        modifiers,
        member: m("P"),
        from: base + chrono::Days::new(next(days)),
        to: base + chrono::Days::new(next(days)),
        set,
        code: [None, CodeKey::parse("20553")][next(2) as usize],
        scope: scopes[next(3) as usize],
        site: line_sites[next(3) as usize],
    }
}

#[test]
fn a_window_counts_what_the_query_matches() {
    // Generated services, recorded out of date order, against every kind
    // of window, code, scope and site: the window's backward scan over
    // day numbers counts exactly the services `Query::matches` accepts.
    let mut next = xorshift(0x2545_f491_4f6c_dd1d_u64);
    let base = date("2025-12-01");
    let codes = ["20552", "20553", "J3301"];
    let tpi = tpi_codes();
    // A small book is scanned; a large one (E1) counts from its index.
    for services in [60, 600] {
        let mut h = MemoryHistory::new();
        for _ in 0..services {
            let s = generated_service(&mut next, base, 90, &codes);
            let _ = h.record(m("P"), s);
        }
        let stored = h.services(m("P"));
        let mut nonzero = 0;
        for _ in 0..3000 {
            let q = generated_query(&mut next, &tpi, base, 100);
            let want = stored.iter().filter(|s| q.matches(s)).count() as u32;
            assert_eq!(h.count(&q), want, "{q:?}");
            nonzero += usize::from(want > 0);
        }
        assert_eq!(
            h.window(m("P")).index.is_some(),
            services >= CodeIndex::FROM
        );
        assert!(nonzero > 500, "{nonzero} windows held services");
        assert_eq!(h.window(m("nobody")).count(&everything(&tpi)), 0);
    }
}

#[test]
fn a_window_visits_the_services_of_one_day() {
    // Generated services, recorded out of date order: `any_on` gives a
    // small book's services of the day (scanned) and a large one's (found
    // in its index by procedure and mark) one by one, each with its units,
    // modifier 50, charge and modifiers (a same-day quantifier's
    // `other.units`, `other.charge` and `other.modifiers`); both are
    // exactly the day's services, twins included,
    // and a test that holds stops the visit.
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15_u64);
    let base = date("2025-12-01");
    let codes = ["20552", "20553", "J3301", "64483"];
    let charges = [None, Some(0.1), Some(182.5)];
    // 4,000: enough out of order after the index is made that each pair's
    // latest days are merged into its sorted ones, with their places.
    for services in [40, 600, 4000] {
        let mut h = MemoryHistory::new();
        for _ in 0..services {
            let s = generated_service(&mut next, base, 40, &codes)
                .with_units(1 + next(3) as u32, next(2) == 1)
                .with_charge(charges[next(3) as usize]);
            let _ = h.record(m("P"), s);
        }
        let stored = h.services(m("P"));
        let window = h.window(m("P"));
        assert_eq!(window.index.is_some(), services >= CodeIndex::FROM);
        // A service as a sortable tuple (the charge by its bits).
        let key = |s: &Service<'_>| {
            (
                s.procedure,
                s.site.map(str::to_string),
                s.units(),
                s.bilateral(),
                s.charge().map(f64::to_bits),
                s.modifiers().to_string(),
            )
        };
        let mut days_with_services = 0;
        // The days before, in and after the services' range.
        for n in 0..42 {
            let date = base + chrono::Days::new(n);
            let mut want: Vec<_> = stored
                .iter()
                .filter(|s| s.date() == date)
                .map(key)
                .collect();
            let mut seen = Vec::new();
            let found = window.any_on(Day::of(date), |s| {
                assert_eq!(s.date(), date);
                seen.push(key(s));
                false
            });
            assert!(!found, "no test held");
            want.sort();
            seen.sort();
            assert_eq!(seen, want, "{date}, {services} services");
            days_with_services += usize::from(!want.is_empty());
            // A test that holds for the first service stops there.
            let mut calls = 0;
            let stopped = window.any_on(Day::of(date), |_| {
                calls += 1;
                true
            });
            assert_eq!(stopped, !want.is_empty());
            assert_eq!(calls, usize::from(!want.is_empty()));
        }
        assert!(days_with_services >= 20, "{days_with_services}");
        assert!(!h.window(m("nobody")).any_on(Day::of(base), |_| true));
    }
}

#[test]
fn a_window_finds_the_first_service_the_query_matches() {
    // Where an anchored period starts: the earliest service a count with
    // the same window, code, scope and site counts, from a scanned book and
    // from an indexed one, services recorded out of date order.
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15_u64);
    let base = date("2025-12-01");
    let codes = ["20552", "20553", "J3301"];
    let tpi = tpi_codes();
    for services in [60, 600] {
        let mut h = MemoryHistory::new();
        for _ in 0..services {
            let s = generated_service(&mut next, base, 300, &codes);
            let _ = h.record(m("P"), s);
        }
        let stored = h.services(m("P"));
        let window = h.window(m("P"));
        assert_eq!(window.index.is_some(), services >= CodeIndex::FROM);
        let mut found = 0;
        for _ in 0..3000 {
            let q = generated_query(&mut next, &tpi, base, 310);
            let want = stored
                .iter()
                .filter(|s| q.matches(s))
                .map(|s| Day::of(s.date()))
                .min();
            let got = window.first(&q.in_window(&window));
            assert_eq!(got, want, "{q:?}");
            found += usize::from(want.is_some());
        }
        assert!(found > 600, "{found} windows held a service");
        assert_eq!(h.window(m("nobody")).first(&everything(&tpi)), None);
    }
}

#[test]
fn prefetching_and_loading_change_nothing() {
    let tpi = tpi_codes();
    let mut h = MemoryHistory::new();
    let _ = h.record(m("P1"), svc("2026-01-10", "20553", Some("cervical")));
    let _ = h.record(m("P2"), svc("2026-01-11", "20552", None));
    let _ = h.record(m("P2"), svc("2026-01-12", "20552", None));
    let q = |patient| Query {
        modifiers: ModifierFilter::ANY,
        member: m(patient),
        from: date("2026-01-01"),
        to: date("2026-01-31"),
        set: &tpi,
        code: None,
        scope: None,
        site: None,
    };
    let counts = |h: &MemoryHistory| (h.count(&q("P1")), h.count(&q("P2")));
    assert_eq!(counts(&h), (1, 2));
    for patient in ["P2", "P1", "nobody", ""] {
        for ahead in [3, 2, 1] {
            h.prefetch(m(patient), ahead);
        }
        let _ = h.load(m(patient));
        assert_eq!(counts(&h), (1, 2), "after {patient:?}");
    }
    // A patient loaded has a book, empty when new: it holds nothing.
    assert!(h.has_member(m("nobody")));
    assert!(h.services(m("nobody")).is_empty() && h.versions(m("nobody"), "C1").is_empty());
    assert_eq!((h.members(), h.len()), (4, 3));
}

#[test]
fn counts_by_window_set_and_site() {
    let tpi = tpi_codes();
    let mut h = MemoryHistory::new();
    let _ = h.record(m("P1"), svc("2026-01-10", "20553", Some("cervical")));
    let _ = h.record(m("P1"), svc("2026-01-01", "20552", None));
    let _ = h.record(m("P1"), svc("2026-01-20", "J3301", None));
    let _ = h.record(m("P2"), svc("2026-01-10", "20553", Some("cervical")));
    let q = |from, to, scope, site| Query {
        modifiers: ModifierFilter::ANY,
        member: m("P1"),
        from: date(from),
        to: date(to),
        set: &tpi,
        code: None,
        scope,
        site,
    };
    assert_eq!(h.count(&q("2026-01-01", "2026-01-31", None, None)), 2);
    assert_eq!(h.count(&q("2026-01-02", "2026-01-31", None, None)), 1);
    assert_eq!(h.count(&q("2026-01-01", "2026-01-09", None, None)), 1);
    assert_eq!(
        h.count(&q(
            "2026-01-01",
            "2026-01-31",
            Some(SiteScope::Strict),
            Some("cervical")
        )),
        1
    );
    assert_eq!(
        h.count(&q(
            "2026-01-01",
            "2026-01-31",
            Some(SiteScope::Strict),
            None
        )),
        1
    );
    assert_eq!(
        h.count(&q(
            "2026-01-01",
            "2026-01-31",
            Some(SiteScope::OrUnsited),
            Some("lumbar")
        )),
        1
    );
    assert_eq!(
        h.count(&q(
            "2026-01-01",
            "2026-01-31",
            Some(SiteScope::OrUnsited),
            None
        )),
        2
    );
    assert_eq!(
        h.services(m("P1")).first().map(|s| s.date()),
        Some(date("2026-01-01"))
    );
}

#[test]
fn per_code_counts_only_the_same_procedure() {
    let tpi = tpi_codes();
    let mut h = MemoryHistory::new();
    let _ = h.record(m("P1"), svc("2026-01-10", "20553", None));
    let _ = h.record(m("P1"), svc("2026-01-10", "20552", None));
    let _ = h.record(m("P1"), svc("2026-01-11", "20553", None));
    let q = |code: Option<&str>| Query {
        modifiers: ModifierFilter::ANY,
        member: m("P1"),
        from: date("2026-01-01"),
        to: date("2026-01-31"),
        set: &tpi,
        code: code.and_then(CodeKey::parse),
        scope: None,
        site: None,
    };
    assert_eq!(h.count(&q(None)), 3);
    assert_eq!(h.count(&q(Some("20553"))), 2);
    assert_eq!(h.count(&q(Some("20552"))), 1);
    assert_eq!(
        h.count(&q(Some("J3301"))),
        0,
        "a code outside the set counts nothing"
    );
}

#[test]
fn a_large_book_counts_from_its_index_and_keeps_it_in_step_when_claims_go() {
    let tpi = tpi_codes();
    let mut h = MemoryHistory::new();
    let service = [(1, svc("2026-01-10", "20553", Some("neck")))];
    for i in 0..CodeIndex::FROM + 10 {
        let _ = h.store(NewClaim {
            member: m("P1"),
            id: &format!("C{i}"),
            hash: ContentHash([0; 16]),
            status: Status::Active,
            replaces: None,
            services: &service,
            decision: None,
            kept: None,
        });
    }
    let all = Query {
        modifiers: ModifierFilter::ANY,
        member: m("P1"),
        from: date("2026-01-01"),
        to: date("2026-01-31"),
        set: &tpi,
        code: None,
        scope: Some(SiteScope::Strict),
        site: Some("neck"),
    };
    let n = CodeIndex::FROM as u32 + 10;
    assert!(h.window(m("P1")).index.is_some());
    assert_eq!(h.count(&all), n);
    let _ = h.retire(m("P1"), "C0", Status::Voided, "V");
    assert_eq!(h.count(&all), n - 1);
    for i in 1..20 {
        let _ = h.retire(m("P1"), &format!("C{i}"), Status::Voided, "V");
    }
    assert_eq!(h.count(&all), n - 20);
    assert!(h.window(m("P1")).index.is_none(), "small again: scanned");
}

#[test]
fn retiring_a_version_takes_out_its_own_services_only() {
    let tpi = tpi_codes();
    let mut h = MemoryHistory::new();
    let same = [(1, svc("2026-01-10", "20553", Some("neck")))];
    let store = |h: &mut MemoryHistory, id: &str| {
        let _ = h.store(NewClaim {
            member: m("P1"),
            id,
            hash: ContentHash([0; 16]),
            status: Status::Active,
            replaces: None,
            services: &same,
            decision: None,
            kept: None,
        });
    };
    store(&mut h, "A");
    store(&mut h, "B");
    let _ = h.record(m("P1"), svc("2026-01-10", "20553", Some("neck")));
    // Loaded from a database: a version, then its services.
    let loaded = h.loaded_version(ContentHash([1; 16]), Status::Active, None, 9, false);
    h.add_loaded(m("P1"), "C", loaded);
    h.add_loaded_services(m("P1"), "C", &[svc("2026-01-11", "20552", None)]);
    let all = Query {
        modifiers: ModifierFilter::ANY,
        member: m("P1"),
        from: date("2026-01-01"),
        to: date("2026-01-31"),
        set: &tpi,
        code: None,
        scope: None,
        site: None,
    };
    assert_eq!(h.count(&all), 4);
    let _ = h.retire(m("P1"), "A", Status::Replaced, "A2");
    assert_eq!(
        h.count(&all),
        3,
        "A's one service goes, B's equal one stays"
    );
    let _ = h.retire(m("P1"), "A", Status::Replaced, "A3");
    assert_eq!(
        h.count(&all),
        3,
        "a retired version has nothing left to take out"
    );
    let _ = h.retire(m("P1"), "C", Status::Voided, "C2");
    assert_eq!(h.count(&all), 2, "a loaded version's services go too");
    assert_eq!(
        h.versions(m("P1"), "A").first().map(|v| v.status),
        Some(Status::Replaced)
    );
    assert_eq!(h.len(), 2);
}

#[test]
fn finds_every_patient_among_many() {
    let mut h = MemoryHistory::new();
    for n in 0..5000 {
        let _ = h.record(m(&format!("P{n}")), svc("2026-01-10", "20553", None));
    }
    assert_eq!(h.members(), 5000);
    for n in (0..5000).rev() {
        assert_eq!(h.services(m(&format!("P{n}"))).len(), 1, "P{n}");
    }
    assert!(h.services(m("P5000")).is_empty());
    assert!(!h.has_member(m("missing")));
    h.clear();
    assert!(h.is_empty() && !h.has_member(m("P1")));
}

#[test]
fn a_version_takes_48_bytes() {
    // The patients' claim lists grow with every claim: what a version
    // takes is copied whenever one grows.
    assert_eq!(std::mem::size_of::<Version>(), 48);
    assert_eq!(std::mem::size_of::<Versions>(), 48);
}

#[test]
fn sites_are_found_by_name_before_and_after_the_map() {
    let mut sites = Sites::default();
    let names: Vec<String> = (0..20).map(|n| format!("site{n}")).collect();
    for (n, name) in names.iter().enumerate() {
        assert_eq!(sites.id(name), None);
        assert_eq!(sites.intern(Some(name)), n as u32 + 1);
        for (m, seen) in names.iter().enumerate().take(n + 1) {
            assert_eq!(sites.id(seen), Some(m as u32 + 1), "after {n}");
            assert_eq!(sites.intern(Some(seen)), m as u32 + 1);
            assert_eq!(sites.name(m as u32 + 1), Some(seen.as_str()));
        }
    }
    assert_eq!(sites.intern(None), 0);
    assert_eq!(sites.name(0), None);
}

#[test]
fn marks_are_found_before_and_after_the_map() {
    // Pairs of site and modifiers: no site and no modifiers is mark 0, and
    // the same site with other modifiers (or none) is another mark.
    let mut marks = Marks::default();
    let billed = [
        ModifierCodes::NONE,
        ModifierCodes::of(["GP"]).unwrap_or_default(),
        ModifierCodes::of(["GP", "KX"]).unwrap_or_default(),
    ];
    assert_eq!(marks.intern(None, ModifierCodes::NONE), 0);
    assert_eq!(marks.of(0), (0, ModifierCodes::NONE));
    let mut pairs = Vec::new();
    for site in [None, Some("a"), Some("b"), Some("c"), Some("d")] {
        for modifiers in billed {
            if site.is_none() && modifiers.is_empty() {
                continue;
            }
            pairs.push((site, modifiers));
            let mark = marks.intern(site, modifiers);
            assert_eq!(mark as usize, pairs.len());
            for (n, (site, modifiers)) in pairs.iter().enumerate() {
                let mark = n as u32 + 1;
                assert_eq!(marks.intern(*site, *modifiers), mark);
                let (id, got) = marks.of(mark);
                assert_eq!((marks.sites.name(id), got), (*site, *modifiers));
            }
        }
    }
    assert!(pairs.len() > Marks::FEW);
    assert_eq!(marks.of(u32::MAX), (0, ModifierCodes::NONE));
}

#[test]
fn site_matching_table() {
    use SiteScope::*;
    let cases = [
        (None, Some("a"), Some("b"), true),
        (Some(Strict), Some("a"), Some("a"), true),
        (Some(Strict), Some("a"), Some("b"), false),
        (Some(Strict), None, None, true),
        (Some(Strict), None, Some("a"), false),
        (Some(OrUnsited), None, Some("a"), true),
        (Some(OrUnsited), Some("a"), None, true),
        (Some(OrUnsited), Some("a"), Some("b"), false),
    ];
    for (scope, cur, earlier, want) in cases {
        assert_eq!(
            site_matches(scope, cur, earlier),
            want,
            "{scope:?} {cur:?} {earlier:?}"
        );
    }
}

/// History is per payer and member: the same member id under two payers is
/// two books, each with its own services and claims, found apart whichever
/// was asked for last.
#[test]
fn a_member_id_under_two_payers_keeps_two_histories() {
    let tpi = tpi_codes();
    let mut h = MemoryHistory::new();
    let (emblem, medicare) = (
        Member::new("emblemhealth", "P1"),
        Member::new("medicare", "P1"),
    );
    let services = [(1, svc("2026-01-10", "20553", None))];
    let _ = h.store(NewClaim {
        member: emblem,
        id: "C1",
        hash: ContentHash([0; 16]),
        status: Status::Active,
        replaces: None,
        services: &services,
        decision: None,
        kept: None,
    });
    let _ = h.record(emblem, svc("2026-01-11", "20552", None));
    let q = |member| Query {
        modifiers: ModifierFilter::ANY,
        member,
        from: date("2026-01-01"),
        to: date("2026-01-31"),
        set: &tpi,
        code: None,
        scope: None,
        site: None,
    };
    assert_eq!((h.count(&q(emblem)), h.count(&q(medicare))), (2, 0));
    assert!(h.versions(medicare, "C1").is_empty());
    assert!(!h.has_member(medicare));
    let _ = h.load(medicare);
    let _ = h.record(medicare, svc("2026-01-10", "20553", None));
    // Retiring medicare's C1 (it has none) leaves emblemhealth's alone.
    let _ = h.retire(medicare, "C1", Status::Voided, "V");
    assert_eq!((h.count(&q(emblem)), h.count(&q(medicare))), (2, 1));
    assert_eq!(
        h.versions(emblem, "C1").first().map(|v| v.status),
        Some(Status::Active)
    );
    assert_eq!(h.members(), 2);
    // Another payer's id that is this member id, and the reverse, is no one.
    assert!(!h.has_member(Member::new("P1", "emblemhealth")));
    assert_eq!(h.services(Member::new("aetna", "P1")).len(), 0);
}

#[test]
fn units_and_charges_add_up_what_a_count_counts() {
    // Generated services of several units, some with modifier 50, most
    // with a charge in cents (sums a double would get wrong: ten dimes),
    // against the services a query matches, added up by hand.
    use rust_decimal::Decimal;
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15_u64);
    let base = date("2024-12-01");
    let codes = ["20552", "20553", "J3301"];
    let charges = [
        None,
        Some(0.1),
        Some(0.2),
        Some(182.5),
        Some(12.0),
        Some(0.07),
    ];
    let tpi = tpi_codes();
    for services in [60, 600] {
        let mut h = MemoryHistory::new();
        for _ in 0..services {
            let s = generated_service(&mut next, base, 90, &codes)
                .with_units(1 + next(4) as u32, next(3) == 0)
                .with_charge(charges[next(6) as usize]);
            let _ = h.record(m("P"), s);
        }
        let stored = h.services(m("P"));
        assert!(stored
            .iter()
            .any(|s| s.units() > 1 && s.bilateral() && s.charge().is_some()));
        let window = h.window(m("P"));
        let mut nonzero = 0;
        for _ in 0..2000 {
            let q = generated_query(&mut next, &tpi, base, 100);
            let k = 1 + next(2) as u32;
            let matched: Vec<&Service<'_>> = stored.iter().filter(|s| q.matches(s)).collect();
            let units: u64 = matched.iter().map(|s| s.weight(k)).sum();
            let cents: i64 = matched
                .iter()
                .filter_map(|s| s.charge())
                .map(|c| (c * 100.0).round() as i64)
                .sum();
            let c = q.in_window(&window);
            assert_eq!(window.units(&c, k), units, "{q:?} as {k}");
            assert_eq!(window.charges(&c), Decimal::new(cents, 2), "{q:?}");
            // The dates a count of `dates` gathers: each service's once.
            let mut days: Vec<Day> = matched.iter().map(|s| s.day()).collect();
            let mut got = Vec::new();
            window.days(&c, |d| got.push(d));
            days.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, days, "{q:?}");
            nonzero += usize::from(units > 0);
        }
        assert!(nonzero > 300, "{nonzero} windows held services");
    }
}

#[test]
fn a_service_keeps_its_units_modifiers_and_charge() {
    let mut h = MemoryHistory::new();
    let billed = ModifierCodes::of(["50", "XS"]).unwrap();
    let s = svc("2026-01-10", "20553", Some("cervical"))
        .with_units(3, true)
        .with_charge(Some(182.5))
        .with_modifiers(billed);
    assert_eq!(s.modifiers(), billed);
    assert_eq!(
        (s.units(), s.bilateral(), s.charge()),
        (3, true, Some(182.5))
    );
    let _ = h.record(m("P1"), s);
    // Beyond what an entry keeps, units count as the most it keeps.
    let big = svc("2026-01-11", "20552", None).with_units(u32::MAX, false);
    let _ = h.record(m("P1"), big);
    let got = h.services(m("P1"));
    assert_eq!(got.first(), Some(&s));
    assert_eq!(
        got.get(1).map(|s| (s.units(), s.bilateral(), s.charge())),
        Some((super::window::MAX_UNITS, false, None))
    );
    assert_eq!(
        got.get(1).map(|s| s.weight(2)),
        Some(u64::from(super::window::MAX_UNITS))
    );
    assert_eq!(s.weight(2), 6);
    assert_eq!(s.weight(1), 3);
    assert_ne!(s, s.with_charge(None));
    assert_eq!(big, big.with_charge(Some(f64::NAN)));
    assert_ne!(s, s.with_modifiers(ModifierCodes::NONE));
    assert_eq!(got.get(1).map(|s| s.modifiers()), Some(ModifierCodes::NONE));
}
