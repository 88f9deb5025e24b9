//! The fields a condition can read: the language's view of a claim.
//!
//! One table, used by the checker (names and types), the compiler (ids) and the
//! docs (`docs/language.md` lists the same rows; a test keeps them in step).

/// The type of a value in a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// `true` / `false`.
    Bool,
    /// A whole number.
    Int,
    /// A number that may have a fraction.
    Number,
    /// Text.
    Str,
    /// A calendar date.
    Date,
    /// A CPT/HCPCS code.
    Procedure,
    /// An ICD-10-CM code.
    Diagnosis,
    /// A list of text values (modifiers).
    StrList,
    /// A list of ICD-10-CM codes.
    DiagnosisList,
    /// A documentation fact: bool, number, text or date, known only at run time.
    Fact,
    /// The type of an expression that already has an error (reported once).
    Error,
}

impl Ty {
    /// How the type is named in messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a true/false value",
            Ty::Int => "a whole number",
            Ty::Number => "a number",
            Ty::Str => "text",
            Ty::Date => "a date",
            Ty::Procedure => "a procedure code",
            Ty::Diagnosis => "a diagnosis code",
            Ty::StrList => "a list of text values",
            Ty::DiagnosisList => "a list of diagnosis codes",
            Ty::Fact => "a documentation fact",
            Ty::Error => "an invalid value",
        }
    }

    /// True for `Int` and `Number`.
    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Number)
    }
}

/// Which value a field reads; the evaluator matches on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldId {
    /// `line.procedure`
    LineProcedure,
    /// `line.modifiers`
    LineModifiers,
    /// `line.units`
    LineUnits,
    /// `line.diagnoses`: the diagnoses the line points to.
    LineDiagnoses,
    /// `line.site`
    LineSite,
    /// `line.region`: the region of the line's procedure code.
    LineRegion,
    /// `line.muscles`
    LineMuscles,
    /// `line.injections`
    LineInjections,
    /// `line.charge`
    LineCharge,
    /// `line.date_of_service`
    LineDate,
    /// `line.number`
    LineNumber,
    /// `claim.id`
    ClaimId,
    /// `claim.payer`
    ClaimPayer,
    /// `claim.place_of_service`
    ClaimPlaceOfService,
    /// `claim.diagnoses`: every diagnosis on the claim.
    ClaimDiagnoses,
    /// `claim.line_count`
    ClaimLineCount,
    /// `patient.id`
    PatientId,
    /// `patient.age`: whole years on the line's date of service.
    PatientAge,
    /// `patient.sex`
    PatientSex,
    /// `patient.birth_date`
    PatientBirthDate,
    /// `provider.npi`
    ProviderNpi,
    /// `provider.taxonomy`
    ProviderTaxonomy,
}

/// One readable field.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// The record the field belongs to: `line`, `claim`, `patient` or `provider`.
    pub record: &'static str,
    /// The field's name within the record.
    pub name: &'static str,
    /// What the evaluator reads.
    pub id: FieldId,
    /// Its type.
    pub ty: Ty,
    /// Whether a claim may leave it out (then comparisons with it are false).
    pub optional: bool,
    /// What it is, for docs and `explain`.
    pub doc: &'static str,
}

macro_rules! fields {
    ($( $record:literal . $name:literal => $id:ident : $ty:ident $(, $opt:ident)? ; $doc:literal )*) => {
        /// Every field of `line`, `claim`, `patient` and `provider`. `other.X` reads
        /// the `line.X` of another line; `facts.NAME` reads a documentation fact.
        pub const FIELDS: &[FieldDef] = &[$(FieldDef {
            record: $record,
            name: $name,
            id: FieldId::$id,
            ty: Ty::$ty,
            optional: fields!(@opt $($opt)?),
            doc: $doc,
        },)*];
    };
    (@opt optional) => { true };
    (@opt) => { false };
}

fields! {
    "line"."procedure"       => LineProcedure: Procedure;            "the CPT/HCPCS code"
    "line"."modifiers"       => LineModifiers: StrList;              "the modifiers (up to 4)"
    "line"."units"           => LineUnits: Int;                      "units of service (default 1)"
    "line"."diagnoses"       => LineDiagnoses: DiagnosisList;        "the diagnoses the line points to"
    "line"."site"            => LineSite: Str, optional;             "the anatomic site label"
    "line"."region"          => LineRegion: Str, optional;           "the region whose set holds the procedure code"
    "line"."muscles"         => LineMuscles: Int, optional;          "distinct muscles injected"
    "line"."injections"      => LineInjections: Int, optional;       "injections given in the session"
    "line"."charge"          => LineCharge: Number, optional;        "the billed amount"
    "line"."date_of_service" => LineDate: Date;                      "the date of service"
    "line"."number"          => LineNumber: Int;                     "the line number"
    "claim"."id"             => ClaimId: Str;                        "the claim id"
    "claim"."payer"          => ClaimPayer: Str;                     "the payer id"
    "claim"."place_of_service" => ClaimPlaceOfService: Str, optional; "the 2-digit CMS place of service"
    "claim"."diagnoses"      => ClaimDiagnoses: DiagnosisList;       "every diagnosis on the claim"
    "claim"."line_count"     => ClaimLineCount: Int;                 "how many lines the claim has"
    "patient"."id"           => PatientId: Str;                      "the member id"
    "patient"."age"          => PatientAge: Int, optional;           "whole years on the line's date of service"
    "patient"."sex"          => PatientSex: Str, optional;           "`F`, `M` or `U`"
    "patient"."birth_date"   => PatientBirthDate: Date, optional;    "the date of birth"
    "provider"."npi"         => ProviderNpi: Str, optional;          "the rendering provider's NPI"
    "provider"."taxonomy"    => ProviderTaxonomy: Str, optional;     "the provider's NUCC taxonomy code"
}

/// The `line.` fields a service in the history keeps: all that `other.` may
/// read inside `some/no other service on same day (...)`, whose other
/// services include earlier claims' (PR314 for any other). `line.region`
/// is the region of the procedure code, so a stored service has one too.
/// A field the history comes to keep is added here and to what the
/// evaluator reads of a stored service (`eval::line::as_line`).
pub const HISTORY_FIELDS: &[FieldId] = &[
    FieldId::LineProcedure,
    FieldId::LineModifiers,
    FieldId::LineUnits,
    FieldId::LineSite,
    FieldId::LineRegion,
    FieldId::LineCharge,
    FieldId::LineDate,
];

/// The records a field path can start with, in the order the docs list them.
pub const RECORDS: &[&str] = &["line", "other", "claim", "patient", "provider", "facts"];

/// The field `record.name`, if there is one.
pub fn lookup(record: &str, name: &str) -> Option<&'static FieldDef> {
    let record = if record == "other" { "line" } else { record };
    FIELDS.iter().find(|f| f.record == record && f.name == name)
}

/// The names of a record's fields, for suggestions.
pub fn names_of(record: &str) -> impl Iterator<Item = &'static str> + '_ {
    let record = if record == "other" { "line" } else { record };
    FIELDS
        .iter()
        .filter(move |f| f.record == record)
        .map(|f| f.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_reads_line_fields() {
        assert_eq!(
            lookup("other", "procedure").map(|f| f.id),
            Some(FieldId::LineProcedure)
        );
        assert!(lookup("claim", "procedure").is_none());
    }

    #[test]
    fn paths_are_unique() {
        for (i, a) in FIELDS.iter().enumerate() {
            for b in &FIELDS[i + 1..] {
                assert!(
                    !(a.record == b.record && a.name == b.name),
                    "{}.{}",
                    a.record,
                    a.name
                );
            }
        }
    }
}
