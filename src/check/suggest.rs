//! Near-miss suggestions for unknown names ("did you mean `tpi`?").

/// Edit distance between two strings: insertions, deletions, substitutions and
/// swaps of two adjacent characters (`tip` -> `tpi` is one edit).
#[expect(
    clippy::indexing_slicing,
    reason = "`rows` is `(a.len() + 1) x (b.len() + 1)`; the loops keep `1 <= i <= a.len()` and `1 <= j <= b.len()`, and `i - 2`, `j - 2` are only read when `i > 1 && j > 1`"
)]
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j]
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j - 1] + cost)
                .min(rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
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
        assert_eq!(distance("tpi", "tip"), 1);
        assert_eq!(distance("tpi", "pit"), 2);
        assert_eq!(distance("procedure", "procedur"), 1);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn closest_picks_a_likely_typo_only() {
        let names = ["procedure", "modifiers", "units"];
        assert_eq!(closest("procedur", names), Some("procedure"));
        assert_eq!(closest("unit", names), Some("units"));
        assert_eq!(closest("zzz", names), None);
        assert_eq!(closest("tip", ["tpi", "drugs"]), Some("tpi"));
    }
}
