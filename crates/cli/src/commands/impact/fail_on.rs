//! `--fail-on`: conditions under which `impact` exits 1, for a policy
//! repository's pipeline.

use std::str::FromStr;

use payer_rules::tooling::{Impact, Money};

/// A condition on the report.
#[derive(Debug, Clone, PartialEq)]
pub enum FailOn {
    /// `any`: any claim or line changed decision.
    Any,
    /// `FROM->TO` (`allow->deny`, `*->deny`): any line went from one decision
    /// to another.
    Transition(String, String),
    /// `claims>N`: more than N claims changed.
    Claims(usize),
    /// `lines>N`: more than N lines changed.
    Lines(usize),
    /// `charges>X`: more than X of charges moved.
    Charges(Money),
}

const LABELS: [&str; 7] = ["allow", "review", "deny", "partial", "void", "error", "*"];

impl FromStr for FailOn {
    type Err = String;

    fn from_str(text: &str) -> Result<FailOn, String> {
        let t = text.trim();
        if t == "any" {
            return Ok(FailOn::Any);
        }
        if let Some((from, to)) = t.split_once("->") {
            let (from, to) = (from.trim(), to.trim());
            for side in [from, to] {
                if !LABELS.contains(&side) {
                    return Err(format!(
                        "`{side}` is not a decision: use allow, review, deny, error or *"
                    ));
                }
            }
            return Ok(FailOn::Transition(from.into(), to.into()));
        }
        if let Some((what, value)) = t.split_once('>') {
            let value = value.trim();
            let count = || {
                value
                    .parse::<usize>()
                    .map_err(|_| format!("`{value}` is not a whole number"))
            };
            return match what.trim() {
                "claims" => Ok(FailOn::Claims(count()?)),
                "lines" => Ok(FailOn::Lines(count()?)),
                "charges" => Ok(FailOn::Charges(value.parse()?)),
                other => Err(format!(
                    "`{other}` cannot be limited: use claims>N, lines>N or charges>X"
                )),
            };
        }
        Err(format!(
            "`{text}` is not a condition: use any, FROM->TO (allow->deny), claims>N, lines>N or charges>X"
        ))
    }
}

impl FailOn {
    /// What was met, in words, or `None`.
    pub fn met(&self, impact: &Impact) -> Option<String> {
        match self {
            FailOn::Any => (impact.changed_claims > 0).then(|| {
                format!(
                    "{} claims changed decision (--fail-on any)",
                    impact.changed_claims
                )
            }),
            FailOn::Transition(from, to) => {
                let n = impact.lines_between(from, to);
                (n > 0).then(|| format!("{n} lines went {from} -> {to} (--fail-on {from}->{to})"))
            }
            FailOn::Claims(max) => (impact.changed_claims > *max).then(|| {
                format!(
                    "{} claims changed, more than {max} (--fail-on claims>{max})",
                    impact.changed_claims
                )
            }),
            FailOn::Lines(max) => (impact.changed_lines > *max).then(|| {
                format!(
                    "{} lines changed, more than {max} (--fail-on lines>{max})",
                    impact.changed_lines
                )
            }),
            FailOn::Charges(max) => (impact.charges_moved > *max).then(|| {
                format!(
                    "{} of charges moved, more than {max} (--fail-on charges>{max})",
                    impact.charges_moved
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_read_and_refuse() {
        assert_eq!("any".parse::<FailOn>(), Ok(FailOn::Any));
        assert_eq!(
            "allow->deny".parse::<FailOn>(),
            Ok(FailOn::Transition("allow".into(), "deny".into()))
        );
        assert_eq!("claims>10".parse::<FailOn>(), Ok(FailOn::Claims(10)));
        assert!("charges>1000.50".parse::<FailOn>().is_ok());
        assert!("allow->paid".parse::<FailOn>().is_err());
        assert!("claims>ten".parse::<FailOn>().is_err());
        assert!("money>1".parse::<FailOn>().is_err());
        assert!("whatever".parse::<FailOn>().is_err());
    }

    #[test]
    fn an_unchanged_report_meets_nothing() {
        let impact = Impact::default();
        for c in ["any", "*->deny", "claims>0", "lines>0", "charges>0"] {
            let cond: FailOn = c.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(cond.met(&impact), None, "{c}");
        }
    }
}
