//! A JSON array of claims read element by element: a small scanner finds
//! where each top-level element starts and ends (strings and brackets
//! followed, nothing parsed), and each element is then read as one record.
//! Memory is bounded by one element ([`MAX_RECORD_BYTES`]), and an element
//! that is not valid JSON costs that element alone when its brackets balance;
//! when they do not, the array cannot be split any further and the error says
//! where (line and column).

use super::*;

/// Where a byte is in the input: 1-based line and column (in bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Place {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} column {}", self.line, self.column)
    }
}

/// What the splitter hands out next.
pub(super) enum Item {
    /// One element's bytes, where it starts in the input, and whether it was
    /// cut short at [`MAX_RECORD_BYTES`] (its bytes then hold the start only).
    Element {
        bytes: Vec<u8>,
        at: Place,
        too_long: bool,
    },
    /// The array cannot be split any further: why, with the place.
    Broken(String),
    /// The array ended (and only white space followed it).
    End,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The opening `[`.
    Open,
    /// An element, or `]` right after the `[`.
    First,
    /// An element (after a `,`).
    Element,
    /// `,` or `]` after an element.
    Separator,
    /// Nothing but white space, after the `]`.
    Trailing,
    /// Nothing more: the end, or a broken array.
    Done,
}

/// Splits a JSON array into its top-level elements as the input is read.
pub(super) struct ArraySplitter {
    expect: Expect,
    place: Place,
}

impl Default for ArraySplitter {
    fn default() -> Self {
        ArraySplitter {
            expect: Expect::Open,
            place: Place { line: 1, column: 1 },
        }
    }
}

impl ArraySplitter {
    /// The next element of the array in `input`, or its end, or why it is
    /// broken; an I/O error as it came.
    pub(super) fn next<R: BufRead>(&mut self, input: &mut R) -> std::io::Result<Item> {
        loop {
            if self.expect == Expect::Done {
                return Ok(Item::End);
            }
            let Some(byte) = self.peek(input)? else {
                let expect = std::mem::replace(&mut self.expect, Expect::Done);
                return Ok(match expect {
                    Expect::Trailing | Expect::Done => Item::End,
                    Expect::Open => Item::Broken("the input is empty, not a JSON array".into()),
                    _ => Item::Broken(format!(
                        "the input ends at {} before the array's closing `]`",
                        self.place
                    )),
                });
            };
            if byte.is_ascii_whitespace() {
                self.take(input, byte);
                continue;
            }
            match (self.expect, byte) {
                (Expect::Open, b'[') => {
                    self.take(input, byte);
                    self.expect = Expect::First;
                }
                (Expect::First, b']') | (Expect::Separator, b']') => {
                    self.take(input, byte);
                    self.expect = Expect::Trailing;
                }
                (Expect::Separator, b',') => {
                    self.take(input, byte);
                    self.expect = Expect::Element;
                }
                (Expect::First | Expect::Element, b']' | b',') => {
                    return Ok(self.broken(format!(
                        "expected an element at {}, found `{}`",
                        self.place,
                        char::from(byte)
                    )));
                }
                (Expect::First | Expect::Element, _) => {
                    self.expect = Expect::Separator;
                    return self.element(input);
                }
                (Expect::Trailing, _) => {
                    return Ok(self.broken(format!(
                        "unexpected text after the array's closing `]` at {}",
                        self.place
                    )));
                }
                (Expect::Open, _) => {
                    return Ok(self.broken(format!(
                        "expected `[` at {}: the input is not a JSON array",
                        self.place
                    )));
                }
                (Expect::Separator, _) => {
                    return Ok(self.broken(format!(
                        "expected `,` or `]` after an element at {}, found `{}`",
                        self.place,
                        char::from(byte)
                    )));
                }
                (Expect::Done, _) => return Ok(Item::End),
            }
        }
    }

    fn broken(&mut self, message: String) -> Item {
        self.expect = Expect::Done;
        Item::Broken(message)
    }

    fn peek<R: BufRead>(&mut self, input: &mut R) -> std::io::Result<Option<u8>> {
        loop {
            match input.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Consumes `byte` (the one peeked) and moves the place past it.
    fn take<R: BufRead>(&mut self, input: &mut R, byte: u8) {
        input.consume(1);
        self.advance(byte);
    }

    fn advance(&mut self, byte: u8) {
        if byte == b'\n' {
            self.place.line += 1;
            self.place.column = 1;
        } else {
            self.place.column += 1;
        }
    }

    /// One element, from its first byte to the end of its last: a string,
    /// an object or array whose brackets close in turn, or a bare scalar
    /// (ending at white space, `,` or `]`).
    fn element<R: BufRead>(&mut self, input: &mut R) -> std::io::Result<Item> {
        let at = self.place;
        let mut bytes = Vec::new();
        let mut too_long = false;
        // The open brackets, innermost last; bounded by the element's size.
        let mut open: Vec<(u8, Place)> = Vec::new();
        let (mut in_string, mut escaped, mut started) = (false, false, false);
        loop {
            let Some(byte) = self.peek(input)? else {
                // The end of the input inside the element.
                if in_string || !open.is_empty() {
                    let opened = open.last().map_or(at, |&(_, p)| p);
                    return Ok(self.broken(format!(
                        "the input ends at {} inside the element that starts at {at} \
                         (its last open bracket or string starts at {opened})",
                        self.place
                    )));
                }
                return Ok(Item::Element {
                    bytes,
                    at,
                    too_long,
                });
            };
            if !in_string && open.is_empty() && started {
                // A scalar ends at what may follow an element.
                if byte.is_ascii_whitespace() || byte == b',' || byte == b']' {
                    return Ok(Item::Element {
                        bytes,
                        at,
                        too_long,
                    });
                }
            }
            let place = self.place;
            self.take(input, byte);
            started = true;
            if bytes.len() < MAX_RECORD_BYTES {
                bytes.push(byte);
            } else {
                too_long = true;
            }
            if in_string {
                if escaped {
                    escaped = false;
                } else if byte == b'\\' {
                    escaped = true;
                } else if byte == b'"' {
                    in_string = false;
                    if open.is_empty() {
                        return Ok(Item::Element {
                            bytes,
                            at,
                            too_long,
                        });
                    }
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => open.push((byte, place)),
                b'}' | b']' => {
                    let want = if byte == b'}' { b'{' } else { b'[' };
                    match open.pop() {
                        Some((opened, _)) if opened == want => {
                            if open.is_empty() {
                                return Ok(Item::Element {
                                    bytes,
                                    at,
                                    too_long,
                                });
                            }
                        }
                        Some((opened, from)) => {
                            return Ok(self.broken(format!(
                                "`{}` at {place} closes the `{}` opened at {from}, in the \
                                 element that starts at {at}: the array cannot be read past it",
                                char::from(byte),
                                char::from(opened)
                            )));
                        }
                        None => {
                            return Ok(self
                                .broken(format!("unexpected `{}` at {place}", char::from(byte))));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
