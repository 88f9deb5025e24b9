//! The parties of a claim: what the HL loops above it (2000A billing
//! provider, 2000B subscriber, 2000C patient) and its own 2310B rendering
//! provider say, resolved to the claim's `payer`, `patient` and `provider`
//! as the loose claim shape takes them.
//!
//! The loop over the segments records where each party segment is
//! ([`Party`]); this module reads them once the claim is complete.

use std::borrow::Cow;

use crate::claims::{Obj, RawPatient, RawProvider};

use super::values::{self, iso_text};
use super::{ClaimB, Mapper, Ref};

/// What an HL loop says about its entity (billing provider, subscriber or
/// patient), by the segments that said it.
#[derive(Clone, Debug, Default)]
pub(super) struct Party<'a> {
    pub(super) level: &'a str,
    pub(super) parent: Option<usize>,
    /// NM1*85 (2010AA).
    pub(super) billing: Option<Ref>,
    /// PRV*BI (2000A).
    pub(super) taxonomy: Option<Ref>,
    /// NM1*IL (2010BA).
    pub(super) member: Option<Ref>,
    /// NM1*PR (2010BB).
    pub(super) payer: Option<Ref>,
    /// NM1*QC (2010CA).
    pub(super) person: Option<Ref>,
    /// DMG of 2010BA or 2010CA.
    pub(super) dmg: Option<Ref>,
}

/// The HL loops a claim's parties are read from.
pub(super) struct Loops<'p, 'a> {
    /// 2000B: the subscriber and the payer.
    pub(super) subscriber: &'p Party<'a>,
    /// 2000C, when the claim is in a patient loop.
    pub(super) patient: Option<&'p Party<'a>>,
    /// 2000A: the billing provider.
    pub(super) billing: &'p Party<'a>,
}

impl<'p, 'a> Loops<'p, 'a> {
    /// The loops of a claim read in HL loop `hl` (0-based); `empty` stands in
    /// for a loop that is not there.
    pub(super) fn of(parties: &'p [Party<'a>], hl: usize, empty: &'p Party<'a>) -> Self {
        let own = parties.get(hl).unwrap_or(empty);
        // A claim in a patient loop (2000C) takes the subscriber from the HL
        // above it; either way the billing provider is above the subscriber.
        let (subscriber, patient) = if own.level == "23" {
            let sub = own.parent.and_then(|p| parties.get(p)).unwrap_or(empty);
            (sub, Some(own))
        } else {
            (own, None)
        };
        let billing = subscriber
            .parent
            .and_then(|p| parties.get(p))
            .unwrap_or(empty);
        Loops {
            subscriber,
            patient,
            billing,
        }
    }
}

impl<'a> Mapper<'_, 'a> {
    /// The payer: 2010BB NM109, through the payer id table.
    pub(super) fn payer(&self, loops: &Loops<'_, 'a>) -> Option<Cow<'a, str>> {
        let e = self.e;
        let payer_id = loops
            .subscriber
            .payer
            .map(|r| self.seg(r).el(e, 9))
            .filter(|s| !s.is_empty());
        payer_id.map(|id| match self.payer_ids.and_then(|ids| ids.payer(id)) {
            Some(payer) => Cow::Owned(payer.to_owned()),
            None => Cow::Borrowed(id),
        })
    }

    /// The patient's id, the subscriber's or the dependent's of 2000C, and
    /// the DMG its birth date and sex are read from.
    pub(super) fn patient_id(&self, loops: &Loops<'_, 'a>) -> (Option<Cow<'a, str>>, Option<Ref>) {
        let e = self.e;
        let subscriber = loops.subscriber;
        let member = subscriber
            .member
            .map(|r| self.seg(r).el(e, 9))
            .filter(|s| !s.is_empty());
        match loops.patient {
            None => (member.map(Cow::Borrowed), subscriber.dmg),
            Some(dependent) => {
                let sent = dependent
                    .person
                    .map(|r| self.seg(r).el(e, 9))
                    .filter(|s| !s.is_empty());
                let id = match (sent, member) {
                    (Some(id), _) => Some(Cow::Borrowed(id)),
                    // Never the subscriber's own id: a dependent must not share
                    // the subscriber's history. Name and birth date make it
                    // stable across claims.
                    (None, Some(member)) => {
                        let name = dependent.person.map(|r| self.seg(r));
                        let last = name.map(|n| n.el(e, 3)).unwrap_or_default();
                        let first = name.map(|n| n.el(e, 4)).unwrap_or_default();
                        let born = dependent
                            .dmg
                            .map(|r| self.seg(r).el(e, 2))
                            .unwrap_or_default();
                        Some(Cow::Owned(format!(
                            "{member}/{}/{}/{born}",
                            last.trim().to_ascii_uppercase(),
                            first.trim().to_ascii_uppercase()
                        )))
                    }
                    (None, None) => None,
                };
                (id, dependent.dmg)
            }
        }
    }

    /// The patient: the subscriber, or the dependent of 2000C; and the DMG
    /// its birth date and sex came from. A DMG date that is not D8 rejects
    /// the claim.
    pub(super) fn patient(
        &self,
        c: &mut ClaimB<'a>,
        loops: &Loops<'_, 'a>,
    ) -> (RawPatient<'a>, Option<Ref>) {
        let e = self.e;
        let (patient_id, dmg) = self.patient_id(loops);
        let mut birth_date = None;
        let mut sex = None;
        if let Some(r) = dmg {
            let seg = self.seg(r);
            let (format, born, given_sex) = (seg.el(e, 1), seg.el(e, 2), seg.el(e, 3));
            match values::birth_date(format, born) {
                Ok(date) => birth_date = date.map(|iso| Cow::Owned(iso_text(&iso).to_owned())),
                Err(()) => self.fail(
                    c,
                    "patient.birth_date".into(),
                    format!("DMG must give the birth date as D8 CCYYMMDD, got `{format}` `{born}`"),
                    r,
                ),
            }
            if !given_sex.is_empty() {
                sex = Some(Cow::Borrowed(given_sex));
            }
        }
        let patient = RawPatient {
            id: patient_id,
            birth_date,
            sex,
        };
        (patient, dmg)
    }

    /// The NM1 and the PRV the provider is read from: 2310B rendering, else
    /// 2010AA billing.
    pub(super) fn provider_refs(
        rendering: Option<Ref>,
        rendering_prv: Option<Ref>,
        loops: &Loops<'_, 'a>,
    ) -> (Option<Ref>, Option<Ref>) {
        let billing = loops.billing;
        match rendering {
            Some(r) => (Some(r), rendering_prv.or(billing.taxonomy)),
            None => (billing.billing, billing.taxonomy),
        }
    }

    /// The provider: 2310B rendering, else 2010AA billing; NPIs only (an
    /// NM108 other than `XX` rejects the claim). Also the NM1 and PRV it came
    /// from, to place errors.
    pub(super) fn provider(
        &self,
        c: &mut ClaimB<'a>,
        loops: &Loops<'_, 'a>,
    ) -> (Option<Obj<RawProvider<'a>>>, Option<Ref>, Option<Ref>) {
        let e = self.e;
        let (npi_ref, taxonomy_ref) = Self::provider_refs(c.rendering, c.rendering_prv, loops);
        let mut npi = None;
        if let Some(r) = npi_ref {
            let seg = self.seg(r);
            let (qualifier, id) = (seg.el(e, 8), seg.el(e, 9));
            match values::npi(qualifier, id) {
                Ok(given) => npi = given.map(Cow::Borrowed),
                Err(()) => self.fail(
                    c,
                    "provider.npi".into(),
                    format!("NM108 of the provider in {} is `{qualifier}`: the provider must be identified by NPI (XX)", r.lp),
                    r,
                ),
            }
        }
        let taxonomy = taxonomy_ref
            .map(|r| self.seg(r).el(e, 3))
            .filter(|t| !t.is_empty())
            .map(Cow::Borrowed);
        let provider =
            (npi.is_some() || taxonomy.is_some()).then_some(Obj(RawProvider { npi, taxonomy }));
        (provider, npi_ref, taxonomy_ref)
    }
}
