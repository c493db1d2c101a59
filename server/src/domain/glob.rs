//! Asset patterns: a glob on `qualified_name` where `*` matches any run of
//! characters (dots included) and `?` any one character, ignoring case.

pub const MAX_PATTERN_CHARS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetPattern(Vec<char>);

impl AssetPattern {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("Give a pattern, or leave it empty to match every asset".into());
        }
        if text.chars().count() > MAX_PATTERN_CHARS {
            return Err(format!(
                "Patterns can be at most {MAX_PATTERN_CHARS} characters"
            ));
        }
        if text.chars().any(char::is_control) {
            return Err("Patterns cannot contain control characters".into());
        }
        Ok(AssetPattern(text.to_lowercase().chars().collect()))
    }

    pub fn as_string(&self) -> String {
        self.0.iter().collect()
    }

    /// Iterative wildcard matching: linear in practice, never exponential.
    pub fn matches(&self, name: &str) -> bool {
        let text: Vec<char> = name.to_lowercase().chars().collect();
        let pattern = &self.0;
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            // A star first: a `*` in the name is text, never the pattern's star.
            if p < pattern.len() && pattern[p] == '*' {
                star = Some((p, t));
                p += 1;
            } else if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
                p += 1;
                t += 1;
            } else if let Some((sp, st)) = star {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        pattern[p..].iter().all(|c| *c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        AssetPattern::parse(pattern).unwrap().matches(name)
    }

    #[test]
    fn globs_match_qualified_names() {
        assert!(m("production.public.*", "production.public.orders"));
        assert!(m("production.public.*", "production.public.a.b"));
        assert!(!m("production.public.*", "staging.public.orders"));
        assert!(!m("production.public.*", "production.public"));
        assert!(m("*.orders", "production.public.orders"));
        assert!(m("*", "anything"));
        assert!(m("prod?ction.*", "production.x"));
        assert!(m("PRODUCTION.Public.*", "production.public.Orders"));
        assert!(m("a*b*c", "a-x-b-y-c"));
        assert!(!m("a*b*c", "a-x-b-y"));
        assert!(m("exact.name", "exact.name"));
        assert!(!m("exact.name", "exact.names"));
        // Found by fuzz::patterns::glob_matcher: the star matched a `*` in the name literally.
        assert!(m("*", "*a"));
        assert!(m("a*", "a*b"));
    }

    #[test]
    fn many_stars_stay_fast() {
        let pattern = AssetPattern::parse(&"*a".repeat(50)).unwrap();
        assert!(!pattern.matches(&"a".repeat(49)));
        assert!(pattern.matches(&"a".repeat(60)));
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(AssetPattern::parse("   ").is_err());
        assert!(AssetPattern::parse(&"x".repeat(600)).is_err());
        assert!(AssetPattern::parse("a\u{7}b").is_err());
    }
}
