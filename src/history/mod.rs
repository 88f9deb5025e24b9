//! Claim history: the services earlier claims left behind, which frequency
//! limits and intervals count.
//!
//! A line decided allow or review becomes a service here; a denied line does not.
//! Prior history loaded with `--history` counts as allowed. The store is a trait
//! so that an on-disk store can stand in for the in-memory one.

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use crate::codes::CodeKey;
use crate::compile::CodeSet;
use crate::syntax::ast::SiteScope;

/// One counted service of a patient, as the store is given it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service<'a> {
    /// Date of service.
    pub date: NaiveDate,
    /// The procedure code.
    pub procedure: CodeKey,
    /// The anatomic site, if the line gave one.
    pub site: Option<&'a str>,
}

/// Which services a count looks at.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The patient.
    pub patient: &'a str,
    /// First date counted (inclusive).
    pub from: NaiveDate,
    /// Last date counted (inclusive).
    pub to: NaiveDate,
    /// The procedures counted.
    pub set: &'a CodeSet,
    /// When given, only services with exactly this procedure code count
    /// (`per code`).
    pub code: Option<CodeKey>,
    /// Site matching, against `site`.
    pub scope: Option<SiteScope>,
    /// The site of the line being decided.
    pub site: Option<&'a str>,
}

/// Site matching as the language defines it (see `SiteScope`).
pub fn site_matches(
    scope: Option<SiteScope>,
    current: Option<&str>,
    earlier: Option<&str>,
) -> bool {
    match scope {
        None => true,
        Some(SiteScope::Strict) => current == earlier,
        Some(SiteScope::OrUnsited) => current.is_none() || earlier.is_none() || current == earlier,
    }
}

/// Where services are kept between claims.
pub trait HistoryStore {
    /// How many services match the query.
    fn count(&self, query: &Query<'_>) -> u32;
    /// Records a service of a patient.
    fn record(&mut self, patient: &str, service: Service<'_>);
}

/// A stored service: sites are interned, so recording allocates nothing once a
/// patient and a site have been seen.
#[derive(Debug, Clone, Copy)]
struct Entry {
    date: NaiveDate,
    procedure: CodeKey,
    /// Index into `MemoryHistory::site_names` plus one; 0 for no site.
    site: u32,
}

/// History in memory: per patient, services sorted by date, so a window is found
/// by binary search rather than a scan of the patient's whole history.
#[derive(Debug, Default)]
pub struct MemoryHistory {
    by_patient: FxHashMap<Box<str>, Vec<Entry>>,
    site_ids: FxHashMap<Box<str>, u32>,
    site_names: Vec<Box<str>>,
}

impl MemoryHistory {
    /// An empty history.
    pub fn new() -> MemoryHistory {
        MemoryHistory::default()
    }

    /// A patient's services, by date.
    pub fn services(&self, patient: &str) -> Vec<Service<'_>> {
        self.by_patient
            .get(patient)
            .map_or_else(Vec::new, |entries| {
                entries
                    .iter()
                    .map(|e| Service {
                        date: e.date,
                        procedure: e.procedure,
                        site: self.site_name(e.site),
                    })
                    .collect()
            })
    }

    fn site_name(&self, id: u32) -> Option<&str> {
        id.checked_sub(1)
            .and_then(|i| self.site_names.get(i as usize))
            .map(|s| &**s)
    }

    /// Number of services kept.
    pub fn len(&self) -> usize {
        self.by_patient.values().map(Vec::len).sum()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.by_patient.is_empty()
    }

    fn intern(&mut self, site: Option<&str>) -> u32 {
        let Some(site) = site else { return 0 };
        if let Some(&id) = self.site_ids.get(site) {
            return id;
        }
        self.site_names.push(site.into());
        let id = u32::try_from(self.site_names.len()).unwrap_or(u32::MAX);
        self.site_ids.insert(site.into(), id);
        id
    }
}

impl HistoryStore for MemoryHistory {
    fn count(&self, query: &Query<'_>) -> u32 {
        let Some(entries) = self.by_patient.get(query.patient) else {
            return 0;
        };
        // A site never recorded matches no stored site; u32::MAX is never an id.
        let site = query
            .site
            .map_or(0, |s| self.site_ids.get(s).copied().unwrap_or(u32::MAX));
        let start = entries.partition_point(|e| e.date < query.from);
        let n = entries[start..]
            .iter()
            .take_while(|e| e.date <= query.to)
            .filter(|e| {
                query.set.contains(e.procedure)
                    && query.code.is_none_or(|c| c == e.procedure)
                    && match query.scope {
                        None => true,
                        Some(SiteScope::Strict) => e.site == site,
                        Some(SiteScope::OrUnsited) => site == 0 || e.site == 0 || e.site == site,
                    }
            })
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn record(&mut self, patient: &str, service: Service<'_>) {
        let site = self.intern(service.site);
        let entry = Entry {
            date: service.date,
            procedure: service.procedure,
            site,
        };
        let list = match self.by_patient.get_mut(patient) {
            Some(list) => list,
            None => self.by_patient.entry(patient.into()).or_default(),
        };
        // Claims mostly arrive in date order: the insertion point is usually the end.
        let at = list.partition_point(|e| e.date <= entry.date);
        list.insert(at, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::CodeEntry;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn svc<'a>(d: &str, code: &str, site: Option<&'a str>) -> Service<'a> {
        Service {
            date: date(d),
            procedure: CodeKey::parse(code).unwrap_or_default(),
            site,
        }
    }

    #[test]
    fn counts_by_window_set_and_site() {
        let tpi = CodeSet::from_entries(&[
            CodeEntry::Code("20552".into()),
            CodeEntry::Code("20553".into()),
        ]);
        let mut h = MemoryHistory::new();
        h.record("P1", svc("2026-01-10", "20553", Some("cervical")));
        h.record("P1", svc("2026-01-01", "20552", None));
        h.record("P1", svc("2026-01-20", "J3301", None));
        h.record("P2", svc("2026-01-10", "20553", Some("cervical")));
        let q = |from, to, scope, site| Query {
            patient: "P1",
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
            h.services("P1").first().map(|s| s.date),
            Some(date("2026-01-01"))
        );
    }

    #[test]
    fn per_code_counts_only_the_same_procedure() {
        let tpi = CodeSet::from_entries(&[
            CodeEntry::Code("20552".into()),
            CodeEntry::Code("20553".into()),
        ]);
        let mut h = MemoryHistory::new();
        h.record("P1", svc("2026-01-10", "20553", None));
        h.record("P1", svc("2026-01-10", "20552", None));
        h.record("P1", svc("2026-01-11", "20553", None));
        let q = |code: Option<&str>| Query {
            patient: "P1",
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
}
