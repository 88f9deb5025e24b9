//! Tests of the ICD-10-CM table: its years, lookups, kinds, ranges, code
//! shapes and near-miss suggestions.

use super::*;

fn key(text: &str) -> CodeKey {
    CodeKey::parse(text).unwrap_or_default()
}

fn codes(it: impl IntoIterator<Item = Icd10Code>) -> Vec<&'static str> {
    it.into_iter().map(|c| c.code).collect()
}

#[test]
fn table_holds_every_code_of_every_year() {
    // `zcat data/icd10cm.tsv.gz | grep -vc '^#'`: the codes of any year.
    assert_eq!(len(), 98_510);
    assert_eq!(YEARS, [2019, 2021, 2025, 2026]);
    let all: Vec<Icd10Code> = in_range(CodeKey(0), CodeKey(u64::MAX)).collect();
    let billable_in = |i: usize| {
        all.iter()
            .filter(|c| c.billable.meets(YearSet::one(i)))
            .count()
    };
    // CMS's counts: FY2019 71,932; FY2021 72,616 and 5 of January 2021;
    // FY2025 (April) 74,260; FY2026 (April) 74,714 rows and 5 billable
    // categories (B20, F99, P84, R99, Z66).
    assert_eq!(
        [
            billable_in(0),
            billable_in(1),
            billable_in(2),
            billable_in(3)
        ],
        [71_932, 72_621, 74_260, 74_714 + 5]
    );
    // The FY2026 table shipped before the years: 98,186 codes.
    assert_eq!(
        all.iter()
            .filter(|c| c.years().meets(YearSet::NEWEST))
            .count(),
        98_147 + 39
    );
    // A code is never both billable and a header in one year.
    assert!(all
        .iter()
        .all(|c| !c.billable.meets(c.header) && !c.years().is_empty()));
    for code in ["B20", "F99", "P84", "R99", "Z66"] {
        assert_eq!(
            lookup(code).map(|c| c.kind),
            Some(Icd10Kind::Billable),
            "{code}"
        );
    }
    assert_eq!(lookup("O09").map(|c| c.kind), Some(Icd10Kind::Header));
}

#[test]
fn m54_5_and_m79_1_change_with_the_years() {
    let m54_5 = lookup("M54.5").unwrap_or_else(|| panic!("M54.5 missing"));
    assert_eq!(m54_5.billable.describe(), "FY2019, FY2021");
    assert_eq!(m54_5.header.describe(), "FY2025, FY2026");
    assert_eq!(m54_5.kind, Icd10Kind::Header);
    assert_eq!(m54_5.description, "Low back pain");
    let m54_50 = lookup("M54.50").unwrap_or_else(|| panic!("M54.50 missing"));
    assert_eq!(m54_50.billable.describe(), "FY2025, FY2026");
    assert_eq!(m54_50.header, YearSet(0));
    // M79.1 is a header in every shipped year (the split predates FY2019).
    let m79_1 = lookup("M79.1").unwrap_or_else(|| panic!("M79.1 missing"));
    assert_eq!(m79_1.header, YearSet::ALL);
    assert_eq!(years_of(m79_1.key), (YearSet(0), YearSet::ALL));
    assert_eq!(years_of(key("M79.18")), (YearSet::ALL, YearSet(0)));
    assert_eq!(years_of(key("M79.19")), (YearSet(0), YearSet(0)));
    assert_eq!(years_of(key("1")), (YearSet(0), YearSet(0)));
    // Deleted after FY2019: its last description is kept.
    let gone = lookup("H81.41").unwrap_or_else(|| panic!("H81.41 missing"));
    assert_eq!(
        (gone.billable, gone.kind),
        (YearSet::one(0), Icd10Kind::Billable)
    );
    // The descendants of a year.
    assert_eq!(
        codes(billable_descendants_in(key("M54.5"), YearSet::one(1))),
        Vec::<&str>::new()
    );
    assert_eq!(
        codes(billable_descendants(key("M54.5"))),
        ["M54.50", "M54.51", "M54.59"]
    );
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn dates_find_their_table_year() {
    let year = |d: &str| table_year(day(d)).map(|t| (t.year(), t.fit));
    assert_eq!(year("2015-09-30"), None);
    assert_eq!(year("2015-10-01"), Some((2019, Fit::BeforeOldest)));
    assert_eq!(year("2018-09-30"), Some((2019, Fit::BeforeOldest)));
    assert_eq!(year("2018-10-01"), Some((2019, Fit::Exact)));
    assert_eq!(year("2019-09-30"), Some((2019, Fit::Exact)));
    assert_eq!(year("2019-10-01"), Some((2021, Fit::Gap)));
    assert_eq!(year("2020-10-01"), Some((2021, Fit::Exact)));
    assert_eq!(year("2021-09-30"), Some((2021, Fit::Exact)));
    assert_eq!(year("2021-10-01"), Some((2025, Fit::Gap)));
    assert_eq!(year("2024-09-30"), Some((2025, Fit::Gap)));
    assert_eq!(year("2024-10-01"), Some((2025, Fit::Exact)));
    assert_eq!(year("2025-10-01"), Some((2026, Fit::Exact)));
    assert_eq!(year("2026-09-30"), Some((2026, Fit::Exact)));
    assert_eq!(year("2026-10-01"), Some((2026, Fit::AfterNewest)));
    assert_eq!(fiscal_year(day("2021-09-30")), 2021);
    assert_eq!(fiscal_year(day("2021-10-01")), 2022);
    let between = |a: &str, b: Option<&str>| years_between(day(a), b.map(day)).describe();
    assert_eq!(between("2024-04-01", None), "FY2025, FY2026");
    assert_eq!(between("2019-12-01", Some("2024-03-31")), "FY2021, FY2025");
    assert_eq!(between("2010-01-01", Some("2018-12-31")), "FY2019");
    assert_eq!(between("2010-01-01", Some("2015-09-30")), "no year");
    assert!(fit_note(Fit::Exact).is_none());
    assert_eq!(
        fit_note(Fit::Gap).as_deref(),
        Some("ICD-10-CM: dates of service in FY2020, FY2022, FY2023, FY2024, whose code sets are not shipped, were checked against the next shipped year (shipped: FY2019, FY2021, FY2025, FY2026)")
    );
}

#[test]
fn records_are_sorted_well_formed_and_keys_match_codekey() {
    let mut previous = None;
    let mut seen = 0;
    for i in 0..len() {
        let c = record(i).unwrap_or_else(|| panic!("record {i} unreadable"));
        assert!(is_well_formed(c.code), "{} is not well formed", c.code);
        // build.rs duplicates CodeKey's packing; this keeps the two in step.
        assert_eq!(CodeKey::parse(c.code), Some(c.key), "{}", c.code);
        assert!(previous < Some(c.key), "{} out of order", c.code);
        // The category index finds every record.
        assert_eq!(find(c.key.0), Some(i), "{}", c.code);
        assert!(!c.description.is_empty() && !c.description.contains('\t'));
        previous = Some(c.key);
        seen += 1;
    }
    assert_eq!(seen, len());
    assert_eq!(record(len()), None);
}

#[test]
fn first_and_last_codes_are_found() {
    let first = record(0).unwrap_or_else(|| panic!("no first record"));
    let last = record(len() - 1).unwrap_or_else(|| panic!("no last record"));
    assert_eq!(first.code, "A00");
    assert_eq!(last.code, "Z99.89");
    assert_eq!(lookup("A00"), Some(first));
    assert_eq!(lookup("Z99.89"), Some(last));
    assert_eq!(lookup_key(first.key), Some(first));
    assert_eq!(lookup_key(last.key), Some(last));
    // Just outside both ends.
    assert_eq!(lookup_key(key("A0")), None);
    assert_eq!(lookup_key(key("Z99899")), None);
    assert_eq!(lookup_key(key("ZZZZZZZ")), None);
    assert_eq!(lookup_key(CodeKey(0)), None);
    assert_eq!(lookup_key(CodeKey(u64::MAX)), None);
}

#[test]
fn m79_1_is_a_header_over_four_billable_codes() {
    let header = lookup("M79.1").unwrap_or_else(|| panic!("M79.1 missing"));
    assert_eq!(header.kind, Icd10Kind::Header);
    assert_eq!(header.description, "Myalgia");
    assert_eq!(
        codes(billable_descendants(header.key)),
        ["M79.10", "M79.11", "M79.12", "M79.18"]
    );
    // A billable leaf has no descendants; a header's are all billable leaves.
    assert_eq!(billable_descendants(key("M79.18")).count(), 0);
    assert_eq!(billable_descendants(key("M60.8")).count(), 24);
    assert!(billable_descendants(key("M608")).all(|c| c.key.len() > 4));
}

#[test]
fn m79_18_is_billable_with_its_description() {
    let c = lookup("M79.18").unwrap_or_else(|| panic!("M79.18 missing"));
    assert_eq!(c.kind, Icd10Kind::Billable);
    assert_eq!(c.code, "M79.18");
    assert_eq!(c.key, key("M7918"));
    assert_eq!(c.description, "Myalgia, other site");
}

#[test]
fn dot_and_case_do_not_matter() {
    assert!(lookup("M79.18").is_some());
    assert_eq!(lookup("m7918"), lookup("M79.18"));
    assert_eq!(lookup("M7918"), lookup("m79.18"));
    // but the dot, when present, sits after the category
    assert_eq!(lookup("M7.918"), None);
    assert_eq!(lookup(" M79.18"), None);
}

#[test]
fn known_codes_and_kinds() {
    let kind = |t| lookup(t).map(|c| c.kind);
    assert_eq!(kind("G44.201"), Some(Icd10Kind::Billable));
    assert_eq!(kind("M54.5"), Some(Icd10Kind::Header));
    assert_eq!(kind("M54.50"), Some(Icd10Kind::Billable));
    assert_eq!(kind("M79"), Some(Icd10Kind::Header));
    assert_eq!(kind("S52.521A"), Some(Icd10Kind::Billable));
    assert_eq!(kind("QA0.0101"), Some(Icd10Kind::Billable));
    assert_eq!(
        lookup("G44.201").map(|c| c.description),
        Some("Tension-type headache, unspecified, intractable")
    );
}

#[test]
fn stray_tabs_in_cms_descriptions_are_dropped() {
    assert_eq!(
        lookup("S52.001B").map(|c| c.description),
        Some(
            "Unspecified fracture of upper end of right ulna, initial encounter for open \
             fracture type I or II/initial encounter for open fracture NOS"
        )
    );
}

#[test]
fn chapters_and_blocks_are_not_codes() {
    assert_eq!(lookup("A00-A09"), None);
    assert_eq!(lookup_key(key("1")), None);
    assert_eq!(lookup_key(key("17")), None);
}

#[test]
fn unknown_code_is_none_and_nearest_suggests_siblings() {
    assert_eq!(lookup("M79.19"), None);
    let near = nearest("M79.19", 4);
    assert_eq!(
        codes(near.clone()),
        ["M79.18", "M79.12", "M79.11", "M79.10"]
    );
    assert!(near.iter().all(|c| c.kind == Icd10Kind::Billable));
    assert_eq!(codes(nearest("m7919", 1)), ["M79.18"]);
}

#[test]
fn nearest_handles_headers_typos_and_edges() {
    assert_eq!(
        codes(nearest("M79.1", 10)),
        ["M79.10", "M79.11", "M79.12", "M79.18"]
    );
    assert_eq!(codes(nearest("M7O.1", 3)), ["M70.10", "M70.11", "M70.12"]);
    assert_eq!(codes(nearest("M79.18", 1)), ["M79.18"]);
    assert!(nearest("M79.19", 0).is_empty());
    assert!(nearest("", 5).is_empty());
    assert!(nearest("...", 5).is_empty());
    // Nothing shares a first character with a digit: the whole table competes.
    let far = nearest("7M9.18", 3);
    assert_eq!(far.len(), 3);
    assert!(far.iter().all(|c| c.kind == Icd10Kind::Billable));
}

#[test]
fn in_range_returns_the_m60_8x_codes() {
    let got = codes(in_range(key("M60.80"), key("M60.89").prefix_end()));
    assert_eq!(got.len(), 31); // 24 billable, 7 headers M60.81-M60.87
    assert_eq!(got.first(), Some(&"M60.80"));
    assert_eq!(got.last(), Some(&"M60.89"));
    assert!(got.contains(&"M60.81")); // a header inside the range
    assert!(got.contains(&"M60.879"));
    assert!(!got.contains(&"M60.8")); // sorts before M60.80
    assert!(got.iter().all(|c| c.starts_with("M60.8")));
    // Without prefix_end the upper bound is the code itself.
    assert_eq!(
        codes(in_range(key("M60.88"), key("M60.89"))),
        ["M60.88", "M60.89"]
    );
    // An inverted range is empty.
    assert_eq!(in_range(key("M60.89"), key("M60.80")).count(), 0);
}

#[test]
fn well_formed_codes() {
    for t in [
        "A00", "M79", "m79", "M79.1", "M79.18", "M7918", "G44.201", "S52.521A", "S52521A", "C4A.0",
        "QA0.0101", "Z99.89",
    ] {
        assert!(is_well_formed(t), "{t}");
    }
}

#[test]
fn malformed_codes() {
    for t in [
        "",
        "M",
        "M7",
        "7M9",
        "M79.",
        "M79..1",
        ".M79",
        "M7.91",
        "M79.1.8",
        "M79.18901",
        "M7918901",
        "M79 18",
        " M79",
        "M79-18",
        "M79.1*",
        "M79é",
        "1",
        "A00-A09",
    ] {
        assert!(!is_well_formed(t), "{t}");
    }
}

#[test]
fn reused_rows_give_the_same_distances_as_fresh_ones() {
    for query in ["M7O1", "M79189", "S5252", "Z", "QA001"] {
        let mut reused = Distance::new(query.as_bytes());
        for c in in_range(key("M6"), key("N0")).chain(in_range(key("Q9"), key("S53"))) {
            let code = c.key.as_string();
            assert_eq!(
                reused.to(code.as_bytes()),
                edit_distance(query.as_bytes(), code.as_bytes()),
                "{query} -> {code}"
            );
        }
    }
}

#[test]
fn edit_distance_counts_half_steps() {
    assert_eq!(edit_distance(b"M7919", b"M7918"), (2, 2));
    assert_eq!(edit_distance(b"M7O1", b"M701"), (1, 1));
    assert_eq!(edit_distance(b"M7O1", b"M7010"), (1, 3));
    assert_eq!(edit_distance(b"M7O1", b"M721"), (2, 2));
    assert_eq!(edit_distance(b"M791", b"M7918"), (0, 2));
    assert_eq!(edit_distance(b"M79181", b"M7918"), (2, 2));
    assert_eq!(edit_distance(b"", b"M79"), (0, 6));
    assert_eq!(edit_distance(b"M79", b""), (6, 6));
    assert_eq!(edit_distance(b"ABCDEFGH", b"ABCDEFGH"), (0, 0));
}

#[test]
fn remembered_years_are_the_searched_ones_whatever_shares_a_slot() {
    // Every code of two chapters, twice over, and keys of no code between
    // them: far more codes than slots, so codes evict each other and a
    // slot's stored key must be compared (few of the second pass are hits).
    let keys: Vec<CodeKey> = in_range(key("M00"), key("N99").prefix_end())
        .map(|c| c.key)
        .chain(["M7919", "M999", "Z", "QA001"].map(key))
        .collect();
    assert!(keys.len() > 2 << RECENT_BITS, "{} keys", keys.len());
    for _ in 0..2 {
        for &k in &keys {
            assert_eq!(years_of(k), search_years(k), "{}", k.as_string());
        }
    }
    // Fewer codes than slots, twice over: the second pass is mostly hits
    // (two codes may still share a slot), each the searched answer.
    let few: Vec<CodeKey> = keys.iter().step_by(97).take(100).copied().collect();
    for _ in 0..2 {
        for &k in &few {
            assert_eq!(years_of(k), search_years(k), "{}", k.as_string());
        }
    }
    let hits = few
        .iter()
        .filter(|&&k| RECENT.with(|r| r.get(recent_slot(k)).is_some_and(|c| c.get().0 == k.0)))
        .count();
    assert!(hits > 80, "{hits} of 100 codes are in the cache");
    assert_eq!(years_of(key("M5450")).0, YearSet(0b1100));
    assert_eq!(years_of(CodeKey::default()), (YearSet(0), YearSet(0)));
}
