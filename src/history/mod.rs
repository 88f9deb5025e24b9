//! Claim history: the services earlier claims left behind, which frequency
//! limits and intervals count.
//!
//! A line decided allow or review becomes a service here; a denied line does not.
//! Prior history loaded with `--history` counts as allowed. The store is a trait
//! so that an on-disk store can stand in for the in-memory one.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::codes::CodeKey;
use crate::compile::CodeSet;
use crate::syntax::ast::SiteScope;

/// One counted service of a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Date of service.
    pub date: NaiveDate,
    /// The procedure code.
    pub procedure: CodeKey,
    /// The anatomic site, if the line gave one.
    pub site: Option<String>,
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

impl Query<'_> {
    /// True when a service matches the query's set and site (dates aside).
    pub fn matches(&self, service: &Service) -> bool {
        self.set.contains(service.procedure)
            && self.code.is_none_or(|c| c == service.procedure)
            && site_matches(self.scope, self.site, service.site.as_deref())
    }
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
    fn record(&mut self, patient: &str, service: Service);
}

/// History in memory: per patient, services sorted by date, so a window is found
/// by binary search rather than a scan of the patient's whole history.
#[derive(Debug, Default)]
pub struct MemoryHistory {
    by_patient: HashMap<String, Vec<Service>>,
}

impl MemoryHistory {
    /// An empty history.
    pub fn new() -> MemoryHistory {
        MemoryHistory::default()
    }

    /// A patient's services, by date.
    pub fn services(&self, patient: &str) -> &[Service] {
        self.by_patient.get(patient).map_or(&[], Vec::as_slice)
    }

    /// Number of services kept.
    pub fn len(&self) -> usize {
        self.by_patient.values().map(Vec::len).sum()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.by_patient.is_empty()
    }
}

impl HistoryStore for MemoryHistory {
    fn count(&self, query: &Query<'_>) -> u32 {
        let services = self.services(query.patient);
        let start = services.partition_point(|s| s.date < query.from);
        let n = services[start..]
            .iter()
            .take_while(|s| s.date <= query.to)
            .filter(|s| query.matches(s))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn record(&mut self, patient: &str, service: Service) {
        let list = self.by_patient.entry(patient.to_string()).or_default();
        // Claims mostly arrive in date order: the insertion point is usually the end.
        let at = list.partition_point(|s| s.date <= service.date);
        list.insert(at, service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::CodeEntry;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    fn svc(d: &str, code: &str, site: Option<&str>) -> Service {
        Service {
            date: date(d),
            procedure: CodeKey::parse(code).unwrap_or_default(),
            site: site.map(str::to_string),
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
