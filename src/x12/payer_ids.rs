//! Which policy payer an X12 payer id stands for.
//!
//! An 837P names its payer by the id in 2010BB NM109 (`00882`, a
//! clearinghouse's payer id), while policies name theirs by a word
//! (`medicare`). A [`PayerIds`] table maps the one to the other; an id the
//! table does not hold is kept as the claim's payer, so that the engine
//! answers it `no_policy`, naming the id.

use std::collections::HashMap;

/// X12 payer ids and the policy payer each stands for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayerIds {
    by_id: HashMap<String, String>,
    by_payer: HashMap<String, String>,
}

impl PayerIds {
    /// An empty table: every id is its own payer.
    pub fn new() -> PayerIds {
        PayerIds::default()
    }

    /// Adds `id` as one of `payer`'s ids. The first id added for a payer is
    /// the one the 837P writer uses for it.
    pub fn insert(&mut self, id: &str, payer: &str) {
        self.by_id.insert(id.to_owned(), payer.to_owned());
        self.by_payer
            .entry(payer.to_owned())
            .or_insert_with(|| id.to_owned());
    }

    /// True when no id is mapped.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// This table with `declared`'s ids added where this one has none: a
    /// `--payer-ids` file over the ids the policies declare (`payer-ids`).
    pub fn over(mut self, declared: &PayerIds) -> PayerIds {
        let mut ids: Vec<(&String, &String)> = declared.by_id.iter().collect();
        ids.sort();
        for (id, payer) in ids {
            if !self.by_id.contains_key(id) {
                self.insert(id, payer);
            }
        }
        self
    }

    /// These ids (those the policies declare) under a `--payer-ids` file's,
    /// when one is given: the table `eval`, `impact` and `serve` read 837P
    /// claims with (see [`over`](Self::over)).
    pub fn under(self, file: Option<&PayerIds>) -> PayerIds {
        match file {
            Some(file) => file.clone().over(&self),
            None => self,
        }
    }

    /// Reads a table: one `ID PAYER` pair per line (white space between),
    /// blank lines and `#` comments skipped. An id given twice for two
    /// payers is an error naming the line.
    pub fn parse(text: &str) -> Result<PayerIds, String> {
        let mut ids = PayerIds::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let mut words = line.split_whitespace();
            let (Some(id), Some(payer), None) = (words.next(), words.next(), words.next()) else {
                return Err(format!(
                    "line {}: expected `ID PAYER` (an X12 payer id and a policy payer), got `{line}`",
                    n + 1
                ));
            };
            if let Some(before) = ids.by_id.get(id).filter(|p| *p != payer) {
                return Err(format!(
                    "line {}: payer id `{id}` is already mapped to `{before}`",
                    n + 1
                ));
            }
            ids.insert(id, payer);
        }
        Ok(ids)
    }

    /// The policy payer of X12 payer id `id`, when the table has it.
    pub fn payer(&self, id: &str) -> Option<&str> {
        self.by_id.get(id).map(String::as_str)
    }

    /// The X12 payer id to write for policy payer `payer`, when the table
    /// has one.
    pub fn id_of(&self, payer: &str) -> Option<&str> {
        self.by_payer.get(payer).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pairs_and_refuses_an_id_given_to_two_payers() {
        let ids = PayerIds::parse(
            "# Medicare MACs\n00882 medicare\n12202  medicare\n\n62308 cigna # eviCore\n",
        )
        .unwrap();
        assert_eq!(ids.payer("12202"), Some("medicare"));
        assert_eq!(ids.payer("99999"), None);
        assert_eq!(ids.id_of("medicare"), Some("00882"));
        assert_eq!(
            PayerIds::parse("1 a\n1 b").unwrap_err(),
            "line 2: payer id `1` is already mapped to `a`"
        );
        assert!(PayerIds::parse("just-one-word").is_err());
    }
}
