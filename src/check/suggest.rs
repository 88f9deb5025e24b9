//! Near-miss suggestions for unknown names ("did you mean `tpi`?").

/// Edit distance between two strings (insertions, deletions, substitutions).
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a likely typo:
/// within a third of the name's length (at least 1, at most 3 edits).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("tpi", "tpi"), 0);
        assert_eq!(distance("tpi", "tip"), 2);
        assert_eq!(distance("procedure", "procedur"), 1);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn closest_picks_a_likely_typo_only() {
        let names = ["procedure", "modifiers", "units"];
        assert_eq!(closest("procedur", names), Some("procedure"));
        assert_eq!(closest("unit", names), Some("units"));
        assert_eq!(closest("zzz", names), None);
    }
}
