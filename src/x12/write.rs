//! Claims written as 837P: one billing provider (2000A) and subscriber
//! (2000B) loop per claim, the patient being the subscriber, in transaction
//! sets of [`X12Writer::PER_TRANSACTION`] claims. What the mapper reads back
//! is the claim written (the property test checks it), so the generator's
//! batches can be evaluated from either format.
//!
//! Fields 837P has no segment for travel in K3 segments, payer-rules' own
//! convention (`docs/x12.md`): `K3*FACT name=value` in 2300, `K3*SITE`,
//! `K3*MUSCLES` and `K3*INJECTIONS` in 2400.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;

use crate::claims::{Claim, FactValue};

use super::payer_ids::PayerIds;

/// Writes claims as one 837P interchange.
pub struct X12Writer<W: Write> {
    out: W,
    payer_ids: Option<Arc<PayerIds>>,
    /// The open transaction set's segments after its ST.
    body: String,
    segments: usize,
    claims: usize,
    hl: usize,
    transactions: u64,
    started: bool,
}

/// The interchange control number the writer uses.
const CONTROL: &str = "000000001";

impl<W: Write> X12Writer<W> {
    /// Claims per transaction set: enough to keep the envelopes a small part
    /// of the file, few enough that a reader holds one set easily.
    pub const PER_TRANSACTION: usize = 1000;

    /// A writer to `out`; `payer_ids` gives the X12 id written for each
    /// policy payer (the payer itself when it has none).
    pub fn new(out: W, payer_ids: Option<Arc<PayerIds>>) -> X12Writer<W> {
        X12Writer {
            out,
            payer_ids,
            body: String::new(),
            segments: 0,
            claims: 0,
            hl: 0,
            transactions: 0,
            started: false,
        }
    }

    fn seg(&mut self, text: &str) {
        self.body.push_str(text);
        self.body.push_str("~\n");
        self.segments += 1;
    }

    /// Writes one claim. A claim whose text holds a delimiter (`*`, `:`, `^`,
    /// `~`) cannot be written and is an `InvalidData` error naming it.
    pub fn write(&mut self, claim: &Claim) -> io::Result<()> {
        if !self.started {
            self.started = true;
            writeln!(
                self.out,
                "ISA*00*          *00*          *ZZ*PAYERRULES     *ZZ*RECEIVER       *260101*1200*^*00501*{CONTROL}*0*P*:~"
            )?;
            writeln!(
                self.out,
                "GS*HC*PAYERRULES*RECEIVER*20260101*1200*1*X*005010X222A1~"
            )?;
        }
        check_text(claim)?;
        let payer_id = self
            .payer_ids
            .as_deref()
            .and_then(|ids| ids.id_of(&claim.payer))
            .unwrap_or(&claim.payer)
            .to_owned();
        let billing = self.hl + 1;
        self.hl += 2;
        let mut s = String::new();
        let _ = write!(s, "HL*{billing}**20*1");
        self.seg(&s);
        let provider = claim.provider.as_ref();
        if let Some(taxonomy) = provider.and_then(|p| p.taxonomy.as_deref()) {
            self.seg(&format!("PRV*BI*PXC*{taxonomy}"));
        }
        match provider.and_then(|p| p.npi.as_deref()) {
            Some(npi) => self.seg(&format!("NM1*85*2*BILLING PROVIDER*****XX*{npi}")),
            None => self.seg("NM1*85*2*BILLING PROVIDER"),
        }
        self.seg(&format!("HL*{}*{billing}*22*0", billing + 1));
        self.seg("SBR*P*18*******CI");
        self.seg(&format!("NM1*IL*1*MEMBER*****MI*{}", claim.patient.id));
        let born = claim
            .patient
            .birth_date
            .map(|d| d.format("%Y%m%d").to_string());
        let sex = claim.patient.sex.map(|s| s.as_str());
        if born.is_some() || sex.is_some() {
            self.seg(&format!(
                "DMG*D8*{}*{}",
                born.unwrap_or_default(),
                sex.unwrap_or_default()
            ));
        }
        self.seg(&format!("NM1*PR*2*PAYER*****PI*{payer_id}"));
        let total: f64 = claim.lines.iter().filter_map(|l| l.charge).sum();
        self.seg(&format!(
            "CLM*{}*{total:.2}***{}:B:{}*Y*A*Y*Y",
            claim.id,
            claim.place_of_service.as_deref().unwrap_or_default(),
            claim.frequency.code()
        ));
        if let Some(replaces) = &claim.replaces {
            self.seg(&format!("REF*F8*{replaces}"));
        }
        let mut hi = String::from("HI");
        for (k, dx) in claim.diagnoses.iter().enumerate() {
            let qualifier = if k == 0 { "ABK" } else { "ABF" };
            let _ = write!(hi, "*{qualifier}:{}", dx.as_string().replace('.', ""));
        }
        self.seg(&hi);
        for (name, value) in claim.facts.iter() {
            let value = match value {
                FactValue::Bool(b) => b.to_string(),
                // With a decimal point when whole, so that it reads back as a
                // number rather than an exact integer.
                FactValue::Number(n) if n.fract() == 0.0 => format!("{n:.1}"),
                FactValue::Number(n) => n.to_string(),
                FactValue::Integer(n) => n.to_string(),
                FactValue::Text(t) => format!("\"{t}\""),
                FactValue::Date(d) => d.to_string(),
            };
            self.seg(&format!("K3*FACT {name}={value}"));
        }
        for line in &claim.lines {
            self.seg(&format!("LX*{}", line.line));
            let mut sv1 = format!("SV1*HC:{}", line.procedure_text);
            for m in &line.modifiers {
                let _ = write!(sv1, ":{m}");
            }
            let charge = line.charge.map(|c| c.to_string()).unwrap_or_default();
            let pointers: Vec<String> = line
                .diagnosis_pointers
                .iter()
                .map(ToString::to_string)
                .collect();
            let _ = write!(sv1, "*{charge}*UN*{}***{}", line.units, pointers.join(":"));
            self.seg(&sv1);
            self.seg(&format!(
                "DTP*472*D8*{}",
                line.date_of_service.format("%Y%m%d")
            ));
            if let Some(site) = &line.site {
                self.seg(&format!("K3*SITE {site}"));
            }
            if let Some(n) = line.muscles {
                self.seg(&format!("K3*MUSCLES {n}"));
            }
            if let Some(n) = line.injections {
                self.seg(&format!("K3*INJECTIONS {n}"));
            }
        }
        self.claims += 1;
        if self.claims == Self::PER_TRANSACTION {
            self.close_transaction()?;
        }
        Ok(())
    }

    /// Writes the open transaction set with its ST, BHT, submitter and
    /// receiver, and SE.
    fn close_transaction(&mut self) -> io::Result<()> {
        if self.claims == 0 {
            return Ok(());
        }
        self.transactions += 1;
        let control = format!("{:04}", self.transactions);
        let head = [
            format!("ST*837*{control}*005010X222A1"),
            "BHT*0019*00*BATCH*20260101*1200*CH".to_owned(),
            "NM1*41*2*PAYER-RULES*****46*PAYERRULES".to_owned(),
            "PER*IC*SUBMITTER*TE*5555555555".to_owned(),
            "NM1*40*2*RECEIVER*****46*RECEIVER".to_owned(),
        ];
        for segment in &head {
            writeln!(self.out, "{segment}~")?;
        }
        self.out.write_all(self.body.as_bytes())?;
        let count = head.len() + self.segments + 1;
        writeln!(self.out, "SE*{count}*{control}~")?;
        self.body.clear();
        self.segments = 0;
        self.claims = 0;
        self.hl = 0;
        Ok(())
    }

    /// Closes the interchange (an empty one when no claim was written) and
    /// returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.started {
            // No claim: an interchange with no group.
            writeln!(
                self.out,
                "ISA*00*          *00*          *ZZ*PAYERRULES     *ZZ*RECEIVER       *260101*1200*^*00501*{CONTROL}*0*P*:~"
            )?;
            writeln!(self.out, "IEA*0*{CONTROL}~")?;
            return Ok(self.out);
        }
        self.close_transaction()?;
        writeln!(self.out, "GE*{}*1~", self.transactions)?;
        writeln!(self.out, "IEA*1*{CONTROL}~")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes `claims` as one 837P interchange to `out`.
pub fn write_837p<'c, W: Write>(
    claims: impl IntoIterator<Item = &'c Claim>,
    out: W,
    payer_ids: Option<Arc<PayerIds>>,
) -> io::Result<W> {
    let mut writer = X12Writer::new(out, payer_ids);
    for claim in claims {
        writer.write(claim)?;
    }
    writer.finish()
}

/// Refuses a claim whose text would break the segments it is written in.
fn check_text(claim: &Claim) -> io::Result<()> {
    let bad = |t: &str| {
        t.bytes()
            .any(|b| matches!(b, b'*' | b':' | b'^' | b'~' | b'\n' | b'\r'))
    };
    let mut texts: Vec<(&str, &str)> = vec![
        ("id", &claim.id),
        ("payer", &claim.payer),
        ("patient.id", &claim.patient.id),
    ];
    if let Some(r) = &claim.replaces {
        texts.push(("replaces", r));
    }
    if let Some(t) = claim.provider.as_ref().and_then(|p| p.taxonomy.as_deref()) {
        texts.push(("provider.taxonomy", t));
    }
    for (name, value) in claim.facts.iter() {
        texts.push(("facts", name));
        if let FactValue::Text(t) = value {
            texts.push(("facts", t));
        }
        if name.contains('=') || name.contains(' ') {
            texts.push(("facts", "*"));
        }
    }
    for line in &claim.lines {
        if let Some(site) = &line.site {
            texts.push(("lines[].site", site));
        }
        for m in &line.modifiers {
            texts.push(("lines[].modifiers", m));
        }
    }
    match texts.into_iter().find(|(_, t)| bad(t)) {
        Some((field, _)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "claim `{}`: {field} holds an X12 delimiter (* : ^ ~ or a line break) and cannot be written as 837P",
                claim.id.replace(['*', ':', '^', '~', '\n', '\r'], "?")
            ),
        )),
        None => Ok(()),
    }
}
