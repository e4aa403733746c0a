//! The message of the first syntax error in a JSON text, as Jackson words it. AWS parses
//! definitions and execution inputs with Jackson (`ObjectMapper.readTree`) and quotes its
//! message back: `Unexpected character (''' (code 39)): was expecting double-quote to start
//! field name`, `Unrecognized token 'True': ...`. The wording and the reported column follow
//! jackson-core's `ReaderBasedJsonParser` (`_reportUnexpectedChar`, `_reportInvalidToken`,
//! `_handleOddValue`, `_handleOddName`, `_reportInvalidEOF`).

/// A syntax error: Jackson's message, and the line and column (1-based, the column just after
/// the offending character or token) it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

const VALID_VALUES: &str =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/// Jackson's message for a bare word where a value should be.
pub fn unrecognized_token(word: &str) -> String {
    format!("Unrecognized token '{word}': was expecting {VALID_VALUES}")
}

/// The first syntax error of `text`, or `None` when Jackson would read a value from it (what
/// follows a complete value is not looked at, as `readTree` does not).
pub fn first_error(text: &str) -> Option<SyntaxError> {
    let mut p = Scanner {
        chars: text.chars().collect(),
        at: 0,
    };
    p.value(false).err()
}

/// Jackson's message for a text serde could not read: the first syntax error's, or serde's
/// own where the scan finds none (a number out of range, bytes after the value).
pub fn message(text: &str, e: &serde_json::Error) -> String {
    first_error(text).map_or_else(|| e.to_string(), |s| s.message)
}

struct Scanner {
    chars: Vec<char>,
    at: usize,
}

/// Where a scan is, for what the next character must be.
#[derive(Clone, Copy, PartialEq)]
enum Container {
    Object,
    Array,
}

impl Scanner {
    /// Line and column just after the character at `i`.
    fn position(&self, i: usize) -> (usize, usize) {
        let before = &self.chars[..i.min(self.chars.len())];
        let line = 1 + before.iter().filter(|c| **c == '\n').count();
        let line_start = before.iter().rposition(|c| *c == '\n').map_or(0, |p| p + 1);
        (line, i + 1 - line_start + 1)
    }

    fn fail(&self, i: usize, message: String) -> SyntaxError {
        let (line, column) = self.position(i);
        SyntaxError {
            message,
            line,
            column,
        }
    }

    fn unexpected(&self, i: usize, what: &str) -> SyntaxError {
        let c = self.chars[i];
        self.fail(
            i,
            format!("Unexpected character ('{c}' (code {})): {what}", c as u32),
        )
    }

    fn end(&self, what: &str) -> SyntaxError {
        let i = self.chars.len().saturating_sub(1);
        let mut e = self.fail(i, format!("Unexpected end-of-input: {what}"));
        e.column = self.position(self.chars.len()).1;
        e
    }

    /// The next character that is not white space.
    fn skip(&mut self) -> Option<char> {
        while let Some(c) = self.chars.get(self.at) {
            if !matches!(c, ' ' | '\t' | '\n' | '\r') {
                return Some(*c);
            }
            self.at += 1;
        }
        None
    }

    /// A bare word from `start`: Jackson's "Unrecognized token", reported after the word.
    fn token(&self, start: usize) -> SyntaxError {
        let word: String = self.chars[start..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '$')
            .collect();
        let last = start + word.chars().count().max(1) - 1;
        self.fail(last, unrecognized_token(&word))
    }

    fn value(&mut self, in_array: bool) -> Result<(), SyntaxError> {
        let Some(c) = self.skip() else {
            // After a field's colon Jackson is still looking for the value's first character.
            let after_colon = self.chars[..self.at]
                .iter()
                .rev()
                .find(|c| !c.is_whitespace())
                == Some(&':');
            return Err(match after_colon {
                true => {
                    let mut e = self.end("");
                    e.message = "Unexpected end-of-input within/between Object entries".into();
                    e
                }
                false => self.end(&format!("expected a valid value {VALID_VALUES}")),
            });
        };
        let start = self.at;
        match c {
            '{' => self.container(Container::Object),
            '[' => self.container(Container::Array),
            '"' => self.string(),
            '-' | '0'..='9' => {
                self.at += 1;
                while self
                    .chars
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
                {
                    self.at += 1;
                }
                Ok(())
            }
            't' | 'f' | 'n' => {
                for word in ["true", "false", "null"] {
                    let n = word.len();
                    let here: String = self.chars[start..].iter().take(n).collect();
                    let after = self.chars.get(start + n);
                    let ends = after.is_none_or(|c| !(c.is_alphanumeric() || *c == '_'));
                    if here == word && ends {
                        self.at = start + n;
                        return Ok(());
                    }
                }
                Err(self.token(start))
            }
            ']' if in_array => {
                Err(self.unexpected(start, &format!("expected a valid value {VALID_VALUES}")))
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => Err(self.token(start)),
            _ => Err(self.unexpected(start, &format!("expected a valid value {VALID_VALUES}"))),
        }
    }

    fn string(&mut self) -> Result<(), SyntaxError> {
        self.at += 1;
        while let Some(c) = self.chars.get(self.at) {
            match c {
                '"' => {
                    self.at += 1;
                    return Ok(());
                }
                '\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
        Err(self.end("was expecting closing quote for a string value"))
    }

    fn container(&mut self, kind: Container) -> Result<(), SyntaxError> {
        self.at += 1;
        let close = match kind {
            Container::Object => '}',
            Container::Array => ']',
        };
        let mut first = true;
        loop {
            if kind == Container::Object {
                match self.skip() {
                    Some('}') if first => {
                        self.at += 1;
                        return Ok(());
                    }
                    Some('"') => self.string()?,
                    Some(_) => {
                        return Err(self
                            .unexpected(self.at, "was expecting double-quote to start field name"))
                    }
                    None => return Err(self.end("expected close marker for OBJECT")),
                }
                match self.skip() {
                    Some(':') => self.at += 1,
                    Some(_) => {
                        return Err(self.unexpected(
                            self.at,
                            "was expecting a colon to separate field name and value",
                        ))
                    }
                    None => return Err(self.end("expected close marker for OBJECT")),
                }
                self.value(false)?;
            } else {
                if first && self.skip() == Some(']') {
                    self.at += 1;
                    return Ok(());
                }
                self.value(true)?;
            }
            first = false;
            let entries = match kind {
                Container::Object => "Object",
                Container::Array => "Array",
            };
            match self.skip() {
                Some(',') => self.at += 1,
                Some(c) if c == close => {
                    self.at += 1;
                    return Ok(());
                }
                Some(_) => {
                    return Err(self.unexpected(
                        self.at,
                        &format!("was expecting comma to separate {entries} entries"),
                    ))
                }
                None => {
                    return Err(self.end(&format!(
                        "expected close marker for {}",
                        entries.to_uppercase()
                    )))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> String {
        first_error(text).map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn messages_are_jacksons() {
        let cases = [
            ("hello", "Unrecognized token 'hello': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
            ("{\"a\": True}", "Unrecognized token 'True': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
            ("{\"a\": 1 \"b\": 2}", "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"),
            ("{'a': 1}", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
            ("{\"a\": 'x'}", "Unexpected character (''' (code 39)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
            ("[1, 2,]", "Unexpected character (']' (code 93)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
            ("{\"a\": 1,}", "Unexpected character ('}' (code 125)): was expecting double-quote to start field name"),
            ("{\"a\": \"open", "Unexpected end-of-input: was expecting closing quote for a string value"),
            ("[1 2]", "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"),
            ("{\"a\" 1}", "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"),
            ("nul", "Unrecognized token 'nul': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
            ("{\"a\":", "Unexpected end-of-input within/between Object entries"),
        ];
        for (text, want) in cases {
            assert_eq!(message(text), want, "{text}");
        }
    }

    #[test]
    fn valid_json_has_no_error_and_columns_follow_the_offending_character() {
        for ok in [
            "{}",
            "[]",
            "{\"a\": [1, -2.5e3, true, false, null, \"x\\\"y\"]}",
            " 7 ",
        ] {
            assert_eq!(first_error(ok), None, "{ok}");
        }
        let e = first_error("{'StartAt': 'Only'}").expect("an error");
        assert_eq!((e.line, e.column), (1, 3));
        let e = first_error("{StartAt: 1}").expect("an error");
        assert_eq!((e.line, e.column), (1, 3));
        let e = first_error("StartAt: Only").expect("an error");
        assert_eq!((e.line, e.column), (1, 8));
        let e = first_error("{\n  \"a\": 1,\n}").expect("an error");
        assert_eq!((e.line, e.column), (3, 2));
    }
}
