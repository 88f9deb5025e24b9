//! The rules of the contract, one method of [`Cx`] per field: what
//! [`validate`] applies in contract order and the scanner applies as it reads.

use super::shapes::{looks_like_date, npi_check_digit, plain_diagnosis, plain_procedure};
use super::*;
use crate::codes::icd10;

/// A diagnosis as CMS prints it: the category, a dot, the rest (`M54.5`).
fn dotted(key: CodeKey) -> String {
    let mut code = key.as_string();
    if code.len() > 3 {
        code.insert(3, '.');
    }
    code
}

/// A field path, rendered only when an error needs it: validating a good claim
/// formats no paths (this is on the hot path of every batch).
pub(super) trait FieldPath {
    fn render(self) -> String;
}

impl FieldPath for &str {
    fn render(self) -> String {
        self.to_owned()
    }
}

impl FieldPath for String {
    fn render(self) -> String {
        self
    }
}

/// `lines[i].field`.
#[derive(Clone, Copy)]
struct LineField(usize, &'static str);

impl FieldPath for LineField {
    fn render(self) -> String {
        format!("lines[{}].{}", self.0, self.1)
    }
}

/// The rules of the contract, one method per field, with what every error of
/// one claim shares. [`validate`] applies them in contract order to a claim
/// serde read; the JSON Lines scanner and the 837P mapper's fast path apply
/// them as they meet each field and step aside at the first error, so that
/// `validate` names it.
pub(crate) struct Cx<'r> {
    /// The claim's id for error records, when it has a usable one.
    pub id: Option<&'r str>,
    /// The claim's 1-based position in the input.
    pub record: usize,
}

impl Cx<'_> {
    // Out of line and cold: the validators that call it are inlined into the
    // scanner, and their common path must stay small.
    #[cold]
    #[inline(never)]
    fn err(&self, path: impl FieldPath, message: impl Into<String>) -> ClaimError {
        ClaimError::invalid(
            self.id.map(str::to_owned),
            Some(path.render()),
            message,
            self.record,
        )
    }

    pub(super) fn required<T>(
        &self,
        value: Option<T>,
        path: impl FieldPath,
    ) -> Result<T, ClaimError> {
        value.ok_or_else(|| {
            let path = path.render();
            let message = format!("{} is required", leaf(&path));
            self.err(path, message)
        })
    }

    /// A required text field (`id`, `payer`, `patient.id`): given, and more
    /// than white space. Kept as given.
    pub fn required_text(&self, value: Option<&str>, path: &str) -> Result<Text, ClaimError> {
        let value = self.required(value, path)?;
        if trim(value).is_empty() {
            return Err(self.err(path, format!("{} must not be empty", leaf(path))));
        }
        Ok(text(value))
    }

    /// A strict `YYYY-MM-DD` date.
    #[inline]
    fn date(&self, text: &str, path: impl FieldPath) -> Result<NaiveDate, ClaimError> {
        parse_date(text).ok_or_else(|| {
            let path = path.render();
            let message = format!("{} `{text}` is not a valid YYYY-MM-DD date", leaf(&path));
            self.err(path, message)
        })
    }

    /// `patient`, from its fields as given: a required id, a date of birth
    /// and a sex.
    pub fn patient(
        &self,
        id: Option<&str>,
        birth_date: Option<&str>,
        sex: Option<&str>,
    ) -> Result<Patient, ClaimError> {
        Ok(Patient {
            id: self.required_text(id, "patient.id")?,
            birth_date: birth_date
                .map(|d| self.date(d, "patient.birth_date"))
                .transpose()?,
            sex: sex.map(|s| self.sex(s)).transpose()?,
        })
    }

    /// `patient.sex`.
    fn sex(&self, given: &str) -> Result<Sex, ClaimError> {
        Sex::parse(given).ok_or_else(|| {
            self.err(
                "patient.sex",
                format!("sex must be F, M or U, got `{given}`"),
            )
        })
    }

    /// `provider`, from its fields as given: an NPI and a taxonomy code,
    /// kept as given.
    pub fn provider(
        &self,
        npi: Option<&str>,
        taxonomy: Option<&str>,
    ) -> Result<Provider, ClaimError> {
        Ok(Provider {
            npi: npi.map(|npi| self.npi(npi)).transpose()?,
            taxonomy: taxonomy.map(text),
        })
    }

    /// `provider.npi`: 10 digits with the NPI check digit.
    fn npi(&self, npi: &str) -> Result<Text, ClaimError> {
        if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(
                "provider.npi",
                format!("npi must be 10 digits, got `{npi}`"),
            ));
        }
        if let Some(want) = npi_check_digit(npi).filter(|d| Some(*d) != npi.bytes().last()) {
            return Err(self.err(
                "provider.npi",
                format!(
                    "npi `{npi}` fails the NPI check digit: the last digit should be {}",
                    char::from(want)
                ),
            ));
        }
        Ok(text(npi))
    }

    /// `frequency_code` given as a whole number (YAML's unquoted `7`): read
    /// as its digits, as [`Code`] reads it from serde.
    pub fn frequency_number(&self, n: u64) -> Result<Frequency, ClaimError> {
        self.frequency(&Code::of_number(n).0)
    }

    /// `frequency_code`, given as text (a number's digits).
    pub fn frequency(&self, code: &str) -> Result<Frequency, ClaimError> {
        Frequency::parse(trim(code)).ok_or_else(|| {
            self.err(
                "frequency_code",
                format!(
                    "frequency_code must be 1 (original), 7 (replacement) or 8 (void), got `{code}`"
                ),
            )
        })
    }

    /// `replaces`, which only a replacement or a void may carry.
    pub fn replaces(&self, id: &str, frequency: Frequency) -> Result<Text, ClaimError> {
        if frequency.is_original() {
            return Err(self.err(
                "replaces",
                "replaces needs frequency_code 7 (replacement) or 8 (void)",
            ));
        }
        if trim(id).is_empty() {
            return Err(self.err("replaces", "replaces must not be empty"));
        }
        Ok(text(id))
    }

    /// `place_of_service`: 2 digits.
    pub fn place_of_service(&self, pos: &str) -> Result<Text, ClaimError> {
        if pos.len() == 2 && pos.bytes().all(|b| b.is_ascii_digit()) {
            Ok(text(pos))
        } else {
            Err(self.err(
                "place_of_service",
                format!("place_of_service must be 2 digits, got `{pos}`"),
            ))
        }
    }

    pub(super) fn diagnoses(
        &self,
        raw: Option<Vec<Cow<'_, str>>>,
    ) -> Result<Diagnoses, ClaimError> {
        let raw = self.required(raw, "diagnoses")?;
        self.diagnosis_count(raw.len())?;
        raw.iter()
            .enumerate()
            .take(MAX_DIAGNOSES)
            .map(|(i, code)| self.diagnosis(i, code))
            .collect()
    }

    /// How many diagnoses a claim has: 1 to [`MAX_DIAGNOSES`].
    pub fn diagnosis_count(&self, n: usize) -> Result<(), ClaimError> {
        if n == 0 || n > MAX_DIAGNOSES {
            return Err(self.err(
                "diagnoses",
                format!("a claim needs 1 to {MAX_DIAGNOSES} diagnoses, got {n}"),
            ));
        }
        Ok(())
    }

    /// `diagnoses[i]`: an ICD-10-CM code's shape, packed.
    #[inline]
    pub fn diagnosis(&self, i: usize, code: &str) -> Result<CodeKey, ClaimError> {
        if let Some(key) = plain_diagnosis(code) {
            return Ok(key);
        }
        let trimmed = trim(code);
        CodeKey::parse(trimmed)
            .filter(|_| is_icd10cm_shape(trimmed))
            .ok_or_else(|| {
                self.err(
                    format!("diagnoses[{i}]"),
                    format!(
                        "diagnosis `{code}` is not an ICD-10-CM code: expected a letter, a digit, \
                         a letter or digit, then up to 4 letters or digits after an optional dot"
                    ),
                )
            })
    }

    pub(super) fn facts(&self, raw: RawFacts<'_>) -> Result<Facts, ClaimError> {
        let mut facts = Vec::with_capacity(raw.0.len());
        for (name, value) in raw.0 {
            facts.push((text(&name), self.fact(&name, value)?));
        }
        self.fact_names(facts)
    }

    /// The value of fact `name`: a bool, a finite number, a date (a string of
    /// date shape, which must then be a real date) or other text.
    pub fn fact(&self, name: &str, value: RawFact<'_>) -> Result<FactValue, ClaimError> {
        let path = || format!("facts.{name}");
        Ok(match value {
            RawFact::Bool(b) => FactValue::Bool(b),
            RawFact::Integer(i) => FactValue::Integer(i),
            RawFact::Number(n) if n.is_finite() => FactValue::Number(n),
            RawFact::Number(n) => {
                return Err(self.err(
                    path(),
                    format!("fact `{name}` must be a finite number, got {n}"),
                ));
            }
            RawFact::Text(text) if looks_like_date(&text) => match parse_date(&text) {
                Some(date) => FactValue::Date(date),
                None => {
                    return Err(self.err(
                        path(),
                        format!("fact `{name}` value `{text}` is not a valid YYYY-MM-DD date"),
                    ));
                }
            },
            RawFact::Text(given) => FactValue::Text(text(&given)),
            RawFact::Other(kind) => {
                return Err(self.err(
                    path(),
                    format!("fact `{name}` must be a bool, number, string or date, got {kind}"),
                ));
            }
        })
    }

    /// The facts once every value is checked: no name twice.
    pub fn fact_names(&self, mut facts: Vec<(Text, FactValue)>) -> Result<Facts, ClaimError> {
        // Checked after the values so a bad value is still the first error named;
        // sorted by name, a repeat is next to its first (and `Facts` wants them
        // sorted anyway).
        facts.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(name) = facts.windows(2).find_map(|w| match w {
            [a, b] if a.0 == b.0 => Some(&a.0),
            _ => None,
        }) {
            return Err(self.err(
                format!("facts.{name}"),
                format!("fact `{name}` is given more than once"),
            ));
        }
        Ok(Facts::from_sorted(facts))
    }

    pub(super) fn lines(
        &self,
        raw: Option<Vec<Obj<RawLine<'_>>>>,
        diagnoses: usize,
    ) -> Result<Vec<Line>, ClaimError> {
        let raw = self.required(raw, "lines")?;
        self.line_count(raw.len())?;
        let mut lines: Vec<Line> = Vec::with_capacity(raw.len());
        for (i, Obj(line)) in raw.into_iter().enumerate() {
            let line = self.line(i, line, diagnoses, &lines)?;
            lines.push(line);
        }
        Ok(lines)
    }

    /// How many lines a claim has: 1 to [`MAX_LINES`].
    pub fn line_count(&self, n: usize) -> Result<(), ClaimError> {
        if n == 0 {
            return Err(self.err("lines", "a claim needs at least 1 line"));
        }
        if n > MAX_LINES {
            return Err(self.err(
                "lines",
                format!("a claim takes at most {MAX_LINES} lines (the 837P limit), got {n}"),
            ));
        }
        Ok(())
    }

    /// The patient's date of birth, when given, is on or before every
    /// line's date of service: a claim for services before the patient was
    /// born is a typo, and would leave `patient.age` missing.
    #[inline]
    fn born_before_service(
        &self,
        birth_date: Option<NaiveDate>,
        lines: &[Line],
    ) -> Result<(), ClaimError> {
        let Some(born) = birth_date else {
            return Ok(());
        };
        match lines.iter().position(|l| l.date_of_service < born) {
            None => Ok(()),
            Some(i) => Err(self.err(
                "patient.birth_date",
                format!(
                    "birth_date {born} is after the date of service of lines[{i}] ({})",
                    lines.get(i).map(|l| l.date_of_service).unwrap_or_default()
                ),
            )),
        }
    }

    /// Each diagnosis is billable in the ICD-10-CM code set of each line's
    /// date of service (`codes::icd10::table_year`): a code the year does not
    /// have, or has as a header, is the payer's CO-146 case ("diagnosis was
    /// invalid for the date(s) of service"), rejected here with the code, the
    /// date and the fiscal year. Each table year is checked once per claim
    /// (the lines nearly always share one), with one look-up per diagnosis.
    #[inline]
    fn diagnoses_in_force(&self, diagnoses: &[CodeKey], lines: &[Line]) -> Result<(), ClaimError> {
        let mut checked = icd10::YearSet::default();
        for (i, line) in lines.iter().enumerate() {
            let Some(year) = icd10::table_year(line.date_of_service) else {
                return Err(self.before_icd10(diagnoses, i, line.date_of_service));
            };
            if checked.meets(year.set()) {
                continue;
            }
            checked = icd10::YearSet(checked.0 | year.set().0);
            icd10::note_fit(year.fit);
            for (k, &key) in diagnoses.iter().enumerate() {
                let (billable, header) = icd10::years_of(key);
                if !billable.meets(year.set()) {
                    return Err(self.not_billable(
                        k,
                        key,
                        i,
                        line.date_of_service,
                        year,
                        billable,
                        header,
                    ));
                }
            }
        }
        Ok(())
    }

    /// The date of birth and the diagnoses against the lines' dates: the
    /// first of [`Cx::across`]'s rules, and what the JSON scanner checks
    /// once it has read `frequency_code` itself.
    #[inline]
    pub fn against_dates(
        &self,
        birth_date: Option<NaiveDate>,
        diagnoses: &[CodeKey],
        lines: &[Line],
    ) -> Result<(), ClaimError> {
        self.born_before_service(birth_date, lines)?;
        self.diagnoses_in_force(diagnoses, lines)
    }

    /// The rules across fields, the last a claim meets once each field has
    /// passed its own, in contract order: the date of birth against the
    /// lines' dates, the diagnoses against those dates, then
    /// `frequency_code` (`None` or absent: an original) and `replaces`.
    /// [`validate`] and the 837P fast path (`x12::map::fast`) end with it.
    #[inline]
    pub fn across(
        &self,
        birth_date: Option<NaiveDate>,
        diagnoses: &[CodeKey],
        lines: &[Line],
        frequency: Option<&str>,
        replaces: Option<&str>,
    ) -> Result<(Frequency, Option<Text>), ClaimError> {
        self.against_dates(birth_date, diagnoses, lines)?;
        let frequency = match frequency {
            Some(code) => self.frequency(code)?,
            None => Frequency::default(),
        };
        let replaces = match replaces {
            Some(id) => Some(self.replaces(id, frequency)?),
            None => None,
        };
        Ok((frequency, replaces))
    }

    #[cold]
    #[inline(never)]
    fn before_icd10(&self, diagnoses: &[CodeKey], i: usize, date: NaiveDate) -> ClaimError {
        let code = diagnoses.first().copied().map(dotted).unwrap_or_default();
        self.err(
            "diagnoses[0]",
            format!(
                "diagnosis `{code}` is not valid on {date} (lines[{i}].date_of_service): \
                 ICD-10-CM took effect on {}, and earlier dates of service take ICD-9-CM codes",
                icd10::ICD10_START
            ),
        )
    }

    #[cold]
    #[inline(never)]
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one message, built off the hot path"
    )]
    fn not_billable(
        &self,
        k: usize,
        key: CodeKey,
        i: usize,
        date: NaiveDate,
        year: icd10::TableYear,
        billable: icd10::YearSet,
        header: icd10::YearSet,
    ) -> ClaimError {
        let fy = icd10::fiscal_year(date);
        let used = year.year();
        let read = match year.fit {
            icd10::Fit::Exact => String::new(),
            icd10::Fit::Gap => format!(", read with the FY{used} code set (FY{fy} is not shipped)"),
            icd10::Fit::BeforeOldest => {
                format!(", read with FY{used}, the oldest code set shipped")
            }
            icd10::Fit::AfterNewest => format!(", read with FY{used}, the newest code set shipped"),
        };
        let why = if header.meets(year.set()) {
            format!("it is a header in FY{used}{read}: report one of the billable codes under it")
        } else if billable.is_empty() && header.is_empty() {
            format!("it is not in {}", icd10::EDITION)
        } else if billable.is_empty() {
            format!(
                "it is not in the FY{used} code set{read}, and a header in {}",
                header.describe()
            )
        } else {
            format!(
                "it is not in the FY{used} code set{read}; it is billable in {}",
                billable.describe()
            )
        };
        self.err(
            format!("diagnoses[{k}]"),
            format!(
                "diagnosis `{}` is not a billable ICD-10-CM code on {date} \
                 (lines[{i}].date_of_service, fiscal year FY{fy}): {why}",
                dotted(key)
            ),
        )
    }

    /// `lines[i].site`: a label, not empty (an empty one would be a site of
    /// its own, neither unsited nor any site).
    pub fn site(&self, i: usize, given: &str) -> Result<Text, ClaimError> {
        if trim(given).is_empty() {
            return Err(self.err(LineField(i, "site"), "site must not be empty"));
        }
        Ok(text(given))
    }

    /// Checks line `i`; `earlier` are the lines before it, for unique numbers.
    fn line(
        &self,
        i: usize,
        raw: RawLine<'_>,
        diagnoses: usize,
        earlier: &[Line],
    ) -> Result<Line, ClaimError> {
        let path = |field: &'static str| LineField(i, field);
        let line = self.line_number(i, raw.line, earlier)?;
        let date_text = self.required(raw.date_of_service, path("date_of_service"))?;
        let date_of_service = self.date_of_service(i, &date_text)?;
        let procedure_given = self.required(raw.procedure, path("procedure"))?;
        let (procedure, procedure_text) = self.procedure(i, &procedure_given)?;

        let given = raw.modifiers.unwrap_or_default();
        self.modifier_count(i, given.len())?;
        let mut modifiers = Modifiers::new();
        // The count was checked above, so `take` drops nothing.
        for (j, m) in given.iter().enumerate().take(MAX_MODIFIERS) {
            modifiers.push(self.modifier(i, j, m)?);
        }

        let units = self.units(i, raw.units)?;
        let diagnosis_pointers = self.pointers(i, raw.diagnosis_pointers, diagnoses)?;
        let muscles = raw
            .muscles
            .map(|n| self.tally(i, "muscles", n))
            .transpose()?;
        let injections = raw
            .injections
            .map(|n| self.tally(i, "injections", n))
            .transpose()?;
        let charge = raw.charge.map(|n| self.charge(i, n)).transpose()?;

        Ok(Line {
            line,
            date_of_service,
            procedure,
            procedure_text,
            modifiers,
            units,
            diagnosis_pointers,
            site: raw.site.as_deref().map(|s| self.site(i, s)).transpose()?,
            muscles,
            injections,
            charge,
        })
    }

    /// `lines[i].date_of_service`: a strict date.
    #[inline]
    pub fn date_of_service(&self, i: usize, text: &str) -> Result<NaiveDate, ClaimError> {
        self.date(text, LineField(i, "date_of_service"))
    }

    /// `lines[i].<field>` for a count of the session (`muscles`,
    /// `injections`): a whole number from 0.
    pub fn tally(&self, i: usize, field: &'static str, n: Num) -> Result<u32, ClaimError> {
        self.count(n, 0, LineField(i, field), field)
    }

    /// `lines[i].line` (`given`), or the line's 1-based position; unique among
    /// the `earlier` lines.
    #[inline]
    pub fn line_number(
        &self,
        i: usize,
        given: Option<Num>,
        earlier: &[Line],
    ) -> Result<u32, ClaimError> {
        let path = LineField(i, "line");
        let line = match given {
            Some(n) => self.count(n, 1, path, "line")?,
            None => u32::try_from(i + 1).map_err(|_| self.err(path, "too many lines"))?,
        };
        if let Some(j) = earlier.iter().position(|l| l.line == line) {
            return Err(self.err(
                path,
                format!("line number {line} is already used by lines[{j}]"),
            ));
        }
        Ok(line)
    }

    /// `lines[i].procedure`: a CPT or HCPCS code's shape, packed, and its text
    /// trimmed and uppercased.
    #[inline]
    pub fn procedure(&self, i: usize, given: &str) -> Result<(CodeKey, Text), ClaimError> {
        if let Some(key) = plain_procedure(given) {
            return Ok((key, text(given)));
        }
        let trimmed = trim(given);
        let procedure = CodeKey::parse(trimmed)
            .filter(|_| is_procedure_shape(trimmed))
            .ok_or_else(|| {
                self.err(
                    LineField(i, "procedure"),
                    format!(
                        "procedure `{given}` is not a CPT or HCPCS code: expected 5 digits, \
                         4 digits and F, T or U, or a letter A-V and 4 digits"
                    ),
                )
            })?;
        // Codes nearly always come uppercased: then the text is kept as given
        // (uppercasing in place cost a third of checking a procedure).
        let procedure_text = if trimmed.bytes().any(|b| b.is_ascii_lowercase()) {
            upper(trimmed)
        } else {
            text(trimmed)
        };
        Ok((procedure, procedure_text))
    }

    /// How many modifiers line `i` has: at most [`MAX_MODIFIERS`].
    pub fn modifier_count(&self, i: usize, n: usize) -> Result<(), ClaimError> {
        if n > MAX_MODIFIERS {
            return Err(self.err(
                LineField(i, "modifiers"),
                format!("a line takes at most {MAX_MODIFIERS} modifiers, got {n}"),
            ));
        }
        Ok(())
    }

    /// `lines[i].modifiers[j]`: 2 letters or digits, uppercased.
    pub fn modifier(&self, i: usize, j: usize, given: &str) -> Result<Text, ClaimError> {
        let upper = upper(trim(given));
        if upper.len() != 2 || !upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(self.err(
                format!("lines[{i}].modifiers[{j}]"),
                format!("modifier `{given}` must be 2 letters or digits"),
            ));
        }
        Ok(upper)
    }

    /// A whole number from `min` up that fits a `u32`.
    // Inlined for the common case (a small whole number, read on every line
    // several times); the rest is out of line.
    #[inline]
    fn count(&self, n: Num, min: u32, path: impl FieldPath, name: &str) -> Result<u32, ClaimError> {
        if let Num::Unsigned(v) = n {
            if let Ok(v) = u32::try_from(v) {
                if v >= min {
                    return Ok(v);
                }
            }
        }
        self.count_otherwise(n, min, path, name)
    }

    #[inline(never)]
    fn count_otherwise(
        &self,
        n: Num,
        min: u32,
        path: impl FieldPath,
        name: &str,
    ) -> Result<u32, ClaimError> {
        let what = || {
            if min == 0 {
                "a non-negative integer".to_owned()
            } else {
                format!("an integer of at least {min}")
            }
        };
        match n.integer() {
            Some(v) if v >= i128::from(min) => u32::try_from(v).map_err(|_| {
                self.err(
                    path,
                    format!("{name} must be at most {}, got {n}", u32::MAX),
                )
            }),
            _ => Err(self.err(path, format!("{name} must be {}, got {n}", what()))),
        }
    }

    /// `lines[i].units`: a whole number from 1, and 1 when not given.
    pub fn units(&self, i: usize, given: Option<Num>) -> Result<u32, ClaimError> {
        given.map_or(Ok(1), |n| self.count(n, 1, LineField(i, "units"), "units"))
    }

    /// `lines[i].charge`: a non-negative amount.
    pub fn charge(&self, i: usize, n: Num) -> Result<f64, ClaimError> {
        let amount = n.as_f64();
        if amount.is_finite() && amount >= 0.0 {
            Ok(amount)
        } else {
            Err(self.err(
                LineField(i, "charge"),
                format!("charge must be a non-negative number, got {n}"),
            ))
        }
    }

    fn pointers(
        &self,
        i: usize,
        raw: Option<Vec<Num>>,
        diagnoses: usize,
    ) -> Result<Pointers, ClaimError> {
        let raw = raw.unwrap_or_default();
        self.pointer_count(i, raw.len())?;
        let mut pointers = Pointers::new();
        for (j, n) in raw.into_iter().enumerate().take(MAX_POINTERS) {
            let pointer = self.pointer(i, j, n, diagnoses, &pointers)?;
            pointers.push(pointer);
        }
        Ok(or_all(Some(pointers), diagnoses))
    }

    /// How many diagnosis pointers line `i` has: at most [`MAX_POINTERS`].
    #[inline]
    pub fn pointer_count(&self, i: usize, n: usize) -> Result<(), ClaimError> {
        if n > MAX_POINTERS {
            return Err(self.err(
                format!("lines[{i}].diagnosis_pointers"),
                format!("a line takes at most {MAX_POINTERS} diagnosis pointers, got {n}"),
            ));
        }
        Ok(())
    }

    /// `lines[i].diagnosis_pointers[j]`: one of the claim's `diagnoses`, not
    /// among the line's `earlier` pointers.
    pub fn pointer(
        &self,
        i: usize,
        j: usize,
        n: Num,
        diagnoses: usize,
        earlier: &Pointers,
    ) -> Result<u8, ClaimError> {
        let path = || format!("lines[{i}].diagnosis_pointers[{j}]");
        let pointer = match n.integer() {
            Some(p) if p > diagnoses as i128 && p > 0 => {
                let noun = if diagnoses == 1 {
                    "diagnosis"
                } else {
                    "diagnoses"
                };
                return Err(self.err(
                    path(),
                    format!(
                        "diagnosis pointer {p} points past the {diagnoses} {noun} of the claim"
                    ),
                ));
            }
            Some(p) => u8::try_from(p).ok().filter(|p| *p >= 1),
            None => None,
        };
        let Some(pointer) = pointer else {
            return Err(self.err(
                path(),
                format!("diagnosis pointer must be an integer from 1 to {diagnoses}, got {n}"),
            ));
        };
        if earlier.contains(&pointer) {
            return Err(self.err(
                path(),
                format!("diagnosis pointer {pointer} is given twice"),
            ));
        }
        Ok(pointer)
    }
}
