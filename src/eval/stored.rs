//! Decisions as the stores keep them: the compact form a memory store keeps
//! (a line's action as a code, each reason as its rule and check) rebuilt
//! with the claim, and a store's decision parts made back into a decision.

use thin_vec::ThinVec;

use super::*;

/// The high bit of a compact decision's claim decision code: several
/// policies applied. Then the code is followed by their number (two bytes)
/// and their indexes (two bytes each), and each reason by its policy's index
/// before its rule and check.
pub(super) const MANY: u8 = 0x80;

impl<H: HistoryStore> Engine<H> {
    /// A decision from its compact form and the claim, which gives back the id,
    /// payer, line numbers and codes (the same content, so the same claim).
    ///
    /// The form: the first policy's index (two bytes, little-endian), the
    /// claim decision's code (with [`MANY`]: the policies' number and
    /// indexes), then per line its action's code, its number of reasons and
    /// per reason its policy's index (with [`MANY`] only), its rule's index
    /// and its check's.
    pub(super) fn rebuild(&self, claim: &Claim, kept: &[u8]) -> Option<Decision> {
        let word = |at: usize| -> Option<usize> {
            Some(usize::from(u16::from_le_bytes([
                *kept.get(at)?,
                *kept.get(at + 1)?,
            ])))
        };
        let first = self.policies.get(word(0)?)?;
        let code = *kept.get(2)?;
        let many = code & MANY != 0;
        let decision = *ClaimDecision::ALL.get(usize::from(code & !MANY))?;
        let mut at = 3;
        let mut policies = ThinVec::new();
        if many {
            let n = word(at)?;
            at += 2;
            for _ in 0..n {
                let p = self.policies.get(word(at)?)?;
                policies.push(PolicyRef {
                    id: p.id.clone(),
                    version: p.version.clone(),
                });
                at += 2;
            }
        }
        let mut lines = Vec::new();
        if decision != ClaimDecision::Void {
            for line in &claim.lines {
                let action = action_of(*kept.get(at)?)?;
                let n = usize::from(*kept.get(at + 1)?);
                at += 2;
                let mut reasons = Vec::with_capacity(n);
                for _ in 0..n {
                    let policy = if many {
                        at += 2;
                        self.policies.get(word(at - 2)?)?
                    } else {
                        first
                    };
                    let rule = policy.rules.get(word(at)?)?;
                    let check = rule.checks.get(word(at + 2)?)?;
                    reasons.push(check.reason.clone());
                    at += 4;
                }
                lines.push(LineDecision {
                    line: line.line,
                    procedure: line.procedure,
                    decision: action,
                    reasons,
                    trace: None,
                });
            }
        }
        Some(Decision {
            id: claim.id.clone(),
            payer: claim.payer.clone(),
            policy: first.id.clone(),
            policy_version: first.version.clone(),
            policies,
            decision,
            lines,
        })
    }
}

/// A decision from a store's parts and the claim.
pub(super) fn from_parts(claim: &Claim, parts: &DecisionParts) -> Option<Decision> {
    let lines = if parts.decision == ClaimDecision::Void {
        Vec::new()
    } else {
        if parts.lines.len() != claim.lines.len() {
            return None;
        }
        claim
            .lines
            .iter()
            .zip(&parts.lines)
            .map(|(line, (action, reasons))| LineDecision {
                line: line.line,
                procedure: line.procedure,
                decision: *action,
                reasons: reasons.clone(),
                trace: None,
            })
            .collect()
    };
    Some(Decision {
        id: claim.id.clone(),
        payer: claim.payer.clone(),
        policy: parts.policy.clone(),
        policy_version: parts.version.clone(),
        policies: parts.policies.iter().cloned().collect(),
        decision: parts.decision,
        lines,
    })
}

pub(super) fn action_code(a: Action) -> u8 {
    match a {
        Action::Allow => 0,
        Action::Review => 1,
        Action::Deny => 2,
    }
}

fn action_of(code: u8) -> Option<Action> {
    [Action::Allow, Action::Review, Action::Deny]
        .get(usize::from(code))
        .copied()
}
