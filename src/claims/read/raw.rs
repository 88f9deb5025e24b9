//! The loose serde shapes of a claim, which validation turns into a
//! [`Claim`](super::Claim).

use super::*;

// ---------------------------------------------------------------------------
// The loose serde shapes of a claim. Unknown fields are ignored on purpose:
// clients may send more than the engine reads.

/// A struct that must be written as an object. Derived `Deserialize` also takes
/// an array of the fields in order, which would read `"patient": ["P1"]` as a
/// patient with id `P1`; no client means that.
#[derive(Debug)]
pub(crate) struct Obj<T>(pub T);

/// What an [`Obj`] is called in a type error.
pub(crate) trait Named {
    const EXPECTING: &'static str;
}

impl<'de, T: Deserialize<'de> + Named> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Obj<T>, D::Error> {
        struct ObjVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Named> Visitor<'de> for ObjVisitor<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        deserializer.deserialize_map(ObjVisitor(std::marker::PhantomData))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawClaim<'a> {
    pub id: Option<Cow<'a, str>>,
    pub payer: Option<Cow<'a, str>>,
    pub patient: Option<Obj<RawPatient<'a>>>,
    pub provider: Option<Obj<RawProvider<'a>>>,
    pub place_of_service: Option<Cow<'a, str>>,
    pub diagnoses: Option<Vec<Cow<'a, str>>>,
    pub facts: Option<RawFacts<'a>>,
    pub lines: Option<Vec<Obj<RawLine<'a>>>>,
    pub frequency_code: Option<Code>,
    pub replaces: Option<Cow<'a, str>>,
}

impl Named for RawClaim<'_> {
    const EXPECTING: &'static str = "a claim object";
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawPatient<'a> {
    pub id: Option<Cow<'a, str>>,
    pub birth_date: Option<Cow<'a, str>>,
    pub sex: Option<Cow<'a, str>>,
}

impl Named for RawPatient<'_> {
    const EXPECTING: &'static str = "a patient object";
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawProvider<'a> {
    pub npi: Option<Cow<'a, str>>,
    pub taxonomy: Option<Cow<'a, str>>,
}

impl Named for RawProvider<'_> {
    const EXPECTING: &'static str = "a provider object";
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawLine<'a> {
    pub line: Option<Num>,
    pub date_of_service: Option<Cow<'a, str>>,
    pub procedure: Option<Cow<'a, str>>,
    pub modifiers: Option<Vec<Cow<'a, str>>>,
    pub units: Option<Num>,
    pub diagnosis_pointers: Option<Vec<Num>>,
    pub site: Option<Cow<'a, str>>,
    pub muscles: Option<Num>,
    pub injections: Option<Num>,
    pub charge: Option<Num>,
}

impl Named for RawLine<'_> {
    const EXPECTING: &'static str = "a service line object";
}

/// A code given as a string or a number (`"7"` or `7`: YAML reads an unquoted
/// `7` as a number), kept as text.
#[derive(Debug)]
pub(crate) struct Code(pub String);

impl Code {
    /// A code given as a whole number: its digits.
    pub fn of_number(n: u64) -> Code {
        Code(n.to_string())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        struct CodeVisitor;
        impl Visitor<'_> for CodeVisitor {
            type Value = Code;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Code, E> {
                Ok(Code(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Code, E> {
                Ok(Code(s))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Code, E> {
                Ok(Code::of_number(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Code, E> {
                Ok(Code(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Code, E> {
                Ok(Code(n.to_string()))
            }
        }
        deserializer.deserialize_any(CodeVisitor)
    }
}

/// Any number, kept as read so validation can say what was wrong with it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl Num {
    /// The value when it is a whole number (`2.0` counts, as in JSON Schema).
    pub fn integer(self) -> Option<i128> {
        // A whole number too large for an integer (`18446744073709551616` is
        // read as a float) is still a whole number: saturated, it meets the
        // rule it breaks ("at most ..."), not "must be an integer".
        match self {
            Num::Unsigned(n) => Some(i128::from(n)),
            Num::Signed(n) => Some(i128::from(n)),
            Num::Float(f) if f.is_finite() && f.fract() == 0.0 => Some(f as i128),
            Num::Float(_) => None,
        }
    }

    /// The value as a float, for amounts.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Unsigned(n) => n as f64,
            Num::Signed(n) => n as f64,
            Num::Float(f) => f,
        }
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Unsigned(n) => write!(f, "{n}"),
            Num::Signed(n) => write!(f, "{n}"),
            Num::Float(x) => write!(f, "{x}"),
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Num, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Num, E> {
                Ok(Num::Unsigned(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Num, E> {
                Ok(if n >= 0 {
                    Num::Unsigned(n as u64)
                } else {
                    Num::Signed(n)
                })
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Num, E> {
                Ok(Num::Float(n))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

/// A fact value as read; objects, arrays and null are kept as a description so
/// validation can reject them at `facts.NAME` rather than serde at `facts`.
#[derive(Debug)]
pub(crate) enum RawFact<'a> {
    Bool(bool),
    /// A whole number that fits an `i64`, kept exact.
    Integer(i64),
    Number(f64),
    Text(Cow<'a, str>),
    Other(&'static str),
}

impl RawFact<'_> {
    /// A fact's number as read: exact when it is a whole number that fits an
    /// `i64`, else a float.
    pub(in crate::claims) fn of_num(n: Num) -> Self {
        match n {
            Num::Unsigned(u) => {
                i64::try_from(u).map_or(RawFact::Number(u as f64), RawFact::Integer)
            }
            Num::Signed(i) => RawFact::Integer(i),
            Num::Float(f) => RawFact::Number(f),
        }
    }
}

impl<'de, 'a> Deserialize<'de> for RawFact<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawFact<'a>, D::Error> {
        struct FactVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de, 'a> Visitor<'de> for FactVisitor<'a> {
            type Value = RawFact<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bool, number or string")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Bool(b))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<RawFact<'a>, E> {
                Ok(RawFact::of_num(Num::Unsigned(n)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Integer(n))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Number(n))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Text(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Text(Cow::Owned(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Other("null"))
            }
            fn visit_none<E: de::Error>(self) -> Result<RawFact<'a>, E> {
                Ok(RawFact::Other("null"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFact<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RawFact::Other("an object"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawFact<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RawFact::Other("an array"))
            }
        }
        deserializer.deserialize_any(FactVisitor(std::marker::PhantomData))
    }
}

/// The `facts` object in input order, repeats included, so validation reports
/// the first bad fact as written and can refuse a name given twice.
#[derive(Debug)]
pub(crate) struct RawFacts<'a>(pub Vec<(Cow<'a, str>, RawFact<'a>)>);

impl<'de, 'a> Deserialize<'de> for RawFacts<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RawFacts<'a>, D::Error> {
        struct FactsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de, 'a> Visitor<'de> for FactsVisitor<'a> {
            type Value = RawFacts<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of facts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFacts<'a>, A::Error> {
                let mut facts = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, RawFact<'a>>()? {
                    facts.push((Cow::Owned(entry.0), entry.1));
                }
                Ok(RawFacts(facts))
            }
        }
        deserializer.deserialize_map(FactsVisitor(std::marker::PhantomData))
    }
}
