//! PR110: an X12 payer id declared (`payer-ids`) by policies of two different
//! payers.
//!
//! An 837P names its payer by one id (2010BB NM109), which `eval` reads as the
//! first `payer` of the policies that declare it (`Policies::payer_ids`). An
//! id declared for two payers would send the claims of one payer to the
//! other's policies depending on which file was read first, so it is an
//! error, reported at each later declaration and naming the first. Versions
//! of one policy, and different policies of one payer, may declare the same
//! id: it stands for the same payer.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{DiagCode, Diagnostic};
use crate::syntax::ast::{HeaderKind, ModuleKind};
use crate::workspace::Workspace;

/// The first declaration of an id: the unit, its policy and the payer the id
/// stands for there.
struct Declared<'w> {
    unit: usize,
    policy: &'w str,
    payer: &'w str,
}

/// Reports PR110 for every policy, in load order, that declares an id an
/// earlier policy declared for another payer.
pub(super) fn check_payer_id_owners(ws: &Workspace, diags: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, Declared<'_>> = HashMap::new();
    for (i, unit) in ws.units.iter().enumerate() {
        let Some(module) = unit.module() else {
            continue;
        };
        if module.kind != ModuleKind::Policy {
            continue;
        }
        // The id stands for the policy's first payer; a policy without one is
        // PR105.
        let payer = module.header.iter().find_map(|h| match &h.kind {
            HeaderKind::Payer(payers) => payers.first().map(|p| p.node.as_str()),
            _ => None,
        });
        let Some(payer) = payer else {
            continue;
        };
        let mut reported = HashSet::new();
        for h in &module.header {
            let HeaderKind::PayerIds(ids) = &h.kind else {
                continue;
            };
            for id in ids {
                let before = first.entry(id.node.as_str()).or_insert(Declared {
                    unit: i,
                    policy: module.id.node.as_str(),
                    payer,
                });
                if before.payer == payer || !reported.insert(id.node.as_str()) {
                    continue;
                }
                let file = ws
                    .units
                    .get(before.unit)
                    .map_or("", |u| u.file.path.as_str());
                diags.push(
                    Diagnostic::new(
                        DiagCode::PayerIdOfTwoPayers,
                        &unit.file,
                        id.span,
                        format!(
                            "payer id `{}` stands for payer `{}` in policy `{}` (`{file}`) and for payer `{payer}` here",
                            id.node, before.payer, before.policy
                        ),
                    )
                    .with_help(format!(
                        "an 837P's payer id stands for one payer: keep `{}` in the policies of payer `{}` or of payer `{payer}`, not both",
                        id.node, before.payer
                    )),
                );
            }
        }
    }
}
