//! Names of state machines and executions, with AWS's rule, checked once.

/// A name AWS would accept: 1 to 80 characters, none of them whitespace, brackets,
/// wildcards, listed punctuation or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Empty, or longer than 80 characters (a model constraint, with its own error).
    Length,
    /// A character AWS does not allow.
    Character,
}

/// The longest name AWS accepts, in characters.
pub const MAX_NAME_CHARS: usize = 80;

impl Name {
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let chars = s.chars().count();
        if chars == 0 || chars > MAX_NAME_CHARS {
            return Err(NameError::Length);
        }
        if !s.chars().all(allowed) {
            return Err(NameError::Character);
        }
        Ok(Self(s.to_owned()))
    }

    /// A fresh name, as AWS gives an execution started without one: a UUID. It is a version 7
    /// UUID (RFC 9562: the time in milliseconds, then 74 random bits), so names given one after
    /// another sort together: an index on the name takes them at its end, one page for many,
    /// instead of each on a page of its own.
    pub fn random() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// AWS's character rule alone (length is a separate model constraint).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(allowed)
}

fn allowed(c: char) -> bool {
    !(c.is_whitespace()
        || matches!(
            c,
            '<' | '>'
                | '{'
                | '}'
                | '['
                | ']'
                | '?'
                | '*'
                | '"'
                | '#'
                | '%'
                | '\\'
                | '^'
                | '|'
                | '~'
                | '`'
                | '$'
                | '&'
                | ','
                | ';'
                | ':'
                | '/'
        )
        || ('\u{0}'..='\u{1f}').contains(&c)
        || ('\u{7f}'..='\u{9f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let long = "x".repeat(81);
        let cases = [
            ("plain", "hello-world_1.2", Ok(())),
            ("unicode letters", "héllo", Ok(())),
            ("eighty", &long[..80], Ok(())),
            ("eighty-one", long.as_str(), Err(NameError::Length)),
            ("space", "a b", Err(NameError::Character)),
            ("bracket", "activity[name", Err(NameError::Character)),
            ("colon", "a:b", Err(NameError::Character)),
            ("control", "a\u{1}", Err(NameError::Character)),
            ("c1 control", "a\u{85}", Err(NameError::Character)),
            ("empty", "", Err(NameError::Length)),
        ];
        for (case, name, want) in cases {
            assert_eq!(Name::parse(name).map(|_| ()), want, "{case}");
            assert_eq!(
                is_valid_name(name),
                want != Err(NameError::Character) && !name.is_empty(),
                "{case}"
            );
        }
    }

    /// Fresh names are UUIDs in their lowercase hyphenated form (the form the SQLite store
    /// keeps as 16 bytes), version 7, each sorting after the one before, in one millisecond or
    /// across many.
    #[test]
    fn fresh_names_are_uuids_that_sort_in_order() {
        let names: Vec<Name> = (0..10_000).map(|_| Name::random()).collect();
        for n in &names {
            let u = uuid::Uuid::try_parse(n.as_str()).expect("a UUID");
            assert_eq!(u.get_version_num(), 7, "{}", n.as_str());
            assert_eq!(u.hyphenated().to_string(), n.as_str());
            assert!(Name::parse(n.as_str()).is_ok());
        }
        assert!(
            names.windows(2).all(|w| w[0].as_str() < w[1].as_str()),
            "each name sorts after the one before"
        );
    }
}
