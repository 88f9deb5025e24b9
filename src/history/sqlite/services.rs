//! A claim version's services as both databases keep them: the `services`
//! JSON of its row, written on the path of every claim and read back for the
//! cache and for `history show`.

use super::*;

/// A service as kept in a row's `services` JSON: `[line, "date",
/// "procedure", site, units, modifier_50, "charge", ["modifier", ...]]`,
/// the site and charge `null` when none, the charge the exact decimal as
/// text, the modifiers left out when the line had none. Rows written
/// before units, modifier 50 and the charge were kept (SQLite schema 3 and
/// older, PostgreSQL schema 1) have four items and read as 1 unit, no
/// modifier 50 and no charge; rows written before the modifiers were
/// (SQLite schema 4, PostgreSQL schema 2) read as billed with none.
#[derive(Debug, serde::Deserialize)]
pub(in crate::history) struct ServiceJson {
    line: u32,
    date: String,
    procedure: String,
    site: Option<String>,
    #[serde(default = "one_unit")]
    units: u32,
    #[serde(default)]
    modifier_50: bool,
    #[serde(default)]
    charge: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

fn one_unit() -> u32 {
    1
}

/// A service of a row, read for the cache.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::history) struct LoadedService {
    pub(in crate::history) date: NaiveDate,
    pub(in crate::history) procedure: CodeKey,
    pub(in crate::history) site: Option<String>,
    pub(in crate::history) units: u32,
    pub(in crate::history) bilateral: bool,
    pub(in crate::history) charge: Option<f64>,
    pub(in crate::history) modifiers: ModifierCodes,
}

impl LoadedService {
    /// The service as the cache is given it.
    pub(in crate::history) fn service(&self) -> Service<'_> {
        Service::new(self.date, self.procedure, self.site.as_deref())
            .with_units(self.units, self.bilateral)
            .with_charge(self.charge)
            .with_modifiers(self.modifiers)
    }
}

/// The services of a row's `services` JSON, for the cache; `Err` names what
/// does not read, for the store's "corrupt" error.
pub(in crate::history) fn load_services(json: &str) -> Result<Vec<LoadedService>, String> {
    read_services(json)?
        .map(|read| {
            let (date, s, charge, modifiers) = read?;
            let procedure = CodeKey::parse(&s.procedure)
                .ok_or_else(|| format!("procedure `{}`", s.procedure))?;
            Ok(LoadedService {
                date,
                procedure,
                site: s.site,
                units: s.units,
                bilateral: s.modifier_50,
                charge,
                modifiers,
            })
        })
        .collect()
}

/// A service of a `services` JSON with its date, charge and modifiers
/// read, or what does not read.
type ReadService = Result<(NaiveDate, ServiceJson, Option<f64>, ModifierCodes), String>;

/// The services of a `services` JSON, each with its date, charge and
/// modifiers read (what both the cache and `history show` refuse a row
/// for: a modifier that is not two letters or digits, or more than four).
fn read_services(json: &str) -> Result<impl Iterator<Item = ReadService>, String> {
    let parsed: Vec<ServiceJson> =
        serde_json::from_str(json).map_err(|e| format!("services `{json}`: {e}"))?;
    Ok(parsed.into_iter().map(|s| {
        let date = parse_date(&s.date).ok_or_else(|| format!("date `{}`", s.date))?;
        let charge = s.charge.as_deref().map(parse_charge).transpose()?;
        let modifiers = ModifierCodes::of(s.modifiers.iter().map(String::as_str))
            .ok_or_else(|| format!("modifiers `{}`", s.modifiers.join(",")))?;
        Ok((date, s, charge, modifiers))
    }))
}

/// A stored charge: the shortest decimal of the claim's double, which
/// reads back as that double exactly.
fn parse_charge(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|c| c.is_finite())
        .ok_or_else(|| format!("charge `{text}`"))
}

/// Appends a claim row's services (its `services` JSON) as `history show`
/// lists them; both stores keep services this way. `Err` names what does
/// not read, for the store's "corrupt" error.
pub(in crate::history) fn push_service_rows(
    out: &mut Vec<ServiceRow>,
    claim: &str,
    payer: Option<&str>,
    services: &str,
) -> Result<(), String> {
    for read in read_services(services)? {
        let (date, s, _, _) = read?;
        out.push(ServiceRow {
            payer: payer.map(str::to_owned),
            claim: claim.to_owned(),
            line: s.line,
            date,
            procedure: s.procedure,
            site: s.site,
            units: s.units,
            modifier_50: s.modifier_50,
            charge: s.charge,
            modifiers: s.modifiers,
        });
    }
    Ok(())
}

/// Orders `history show`'s services: by payer, date, claim and line.
pub(in crate::history) fn sort_service_rows(rows: &mut [ServiceRow]) {
    rows.sort_by(|a, b| {
        (&a.payer, a.date, &a.claim, a.line).cmp(&(&b.payer, b.date, &b.claim, b.line))
    });
}

/// `[[line, "date", "procedure", "site" or null, units, modifier_50,
/// "charge" or null, ["modifier", ...] when any], ...]`, written by hand: this is on the path of every
/// claim. A charge is written as the shortest decimal that reads back as
/// the claim's double (Rust's `Display` of a double), in quotes so that
/// nothing reading the file takes it for a double again.
pub(in crate::history) fn services_json(services: &[(u32, Service<'_>)]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(2 + services.len() * 56);
    out.push('[');
    for (i, (line, s)) in services.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "[{line},\"{}\",\"{}\",",
            s.date().format("%Y-%m-%d"),
            s.procedure
        );
        match s.site {
            None => out.push_str("null"),
            Some(site) => out.push_str(&serde_json::to_string(site).unwrap_or_default()),
        }
        let _ = write!(out, ",{},{},", s.units(), s.bilateral());
        match s.charge().filter(|c| c.is_finite()) {
            None => out.push_str("null"),
            Some(charge) => {
                let _ = write!(out, "\"{charge}\"");
            }
        }
        // Two letters or digits each: nothing to escape.
        for (i, [a, b]) in s.modifiers().bytes().enumerate() {
            out.push_str(if i == 0 { ",[\"" } else { "\",\"" });
            out.push(char::from(a));
            out.push(char::from(b));
        }
        if !s.modifiers().is_empty() {
            out.push_str("\"]");
        }
        out.push(']');
    }
    out.push(']');
    out
}
