//! Content codings (RFC 9110 §8.4) and `Accept-Encoding` negotiation (§12.5.3) with q-values, so that a
//! server picks the coding a client prefers among those it can produce, never by substring matching.

/// A content coding this project can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCoding {
    /// `br` (RFC 7932).
    Brotli,
    /// `zstd` (RFC 8878).
    Zstd,
    /// `gzip` (RFC 1952).
    Gzip,
}

impl ContentCoding {
    /// Every coding, in the order the server prefers them when the client likes several equally:
    /// brotli packs text best, zstd is close and cheaper, gzip is what everybody has.
    pub const ALL: [ContentCoding; 3] = [
        ContentCoding::Brotli,
        ContentCoding::Zstd,
        ContentCoding::Gzip,
    ];

    /// The token sent in `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            ContentCoding::Brotli => "br",
            ContentCoding::Zstd => "zstd",
            ContentCoding::Gzip => "gzip",
        }
    }

    /// The file name suffix of a precompressed sibling (`app.js.br`).
    pub fn file_suffix(self) -> &'static str {
        match self {
            ContentCoding::Brotli => ".br",
            ContentCoding::Zstd => ".zst",
            ContentCoding::Gzip => ".gz",
        }
    }

    fn index(self) -> usize {
        match self {
            ContentCoding::Brotli => 0,
            ContentCoding::Zstd => 1,
            ContentCoding::Gzip => 2,
        }
    }
}

/// More members than this in one `Accept-Encoding` are ignored: real clients send fewer than ten.
pub const MAX_MEMBERS: usize = 32;

/// What a client's `Accept-Encoding` says of each coding we can produce: a weight in thousandths
/// (0 = refused), or nothing said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AcceptEncoding {
    weights: [Option<u16>; 3],
    /// The weight of `*`, for codings not named.
    any: Option<u16>,
}

impl AcceptEncoding {
    /// Parses a field value. Members that are malformed (bad token, a q-value out of range or with more than
    /// three decimals) are skipped rather than failing the whole field; an absent field means "anything" to
    /// RFC 9110, but a server that compresses only on request treats it as "identity only", as every
    /// deployed server does.
    pub fn parse(value: &[u8]) -> AcceptEncoding {
        let mut accept = AcceptEncoding::default();
        for member in value.split(|&b| b == b',').take(MAX_MEMBERS) {
            let Some((coding, q)) = parse_member(member) else {
                continue;
            };
            let slot = match coding {
                b"*" => &mut accept.any,
                _ => match known(coding) {
                    Some(c) => &mut accept.weights[c.index()],
                    None => continue,
                },
            };
            // A coding named twice keeps its first weight (the field is a set; the first is what a
            // client meant, the rest is noise).
            slot.get_or_insert(q);
        }
        accept
    }

    /// The weight given to `coding` (0..=1000), `*` applying to codings not named.
    pub fn weight(&self, coding: ContentCoding) -> u16 {
        self.weights[coding.index()].or(self.any).unwrap_or(0)
    }

    /// The acceptable codings among `offered`, best first: higher weight, then the order of `offered`.
    pub fn ranked(&self, offered: &[ContentCoding]) -> Vec<ContentCoding> {
        let mut ranked: Vec<ContentCoding> = offered
            .iter()
            .copied()
            .filter(|c| self.weight(*c) > 0)
            .collect();
        // Stable: equal weights keep the server's order.
        ranked.sort_by_key(|c| std::cmp::Reverse(self.weight(*c)));
        ranked
    }

    /// The best acceptable coding among `offered`, if any.
    pub fn choose(&self, offered: &[ContentCoding]) -> Option<ContentCoding> {
        let mut best: Option<(ContentCoding, u16)> = None;
        for &c in offered {
            let w = self.weight(c);
            if w > 0 && best.is_none_or(|(_, bw)| w > bw) {
                best = Some((c, w));
            }
        }
        best.map(|(c, _)| c)
    }
}

fn known(token: &[u8]) -> Option<ContentCoding> {
    ContentCoding::ALL
        .into_iter()
        .find(|c| token.eq_ignore_ascii_case(c.token().as_bytes()))
        // `x-gzip` is gzip (RFC 9110 §8.4.1.3).
        .or_else(|| {
            token
                .eq_ignore_ascii_case(b"x-gzip")
                .then_some(ContentCoding::Gzip)
        })
}

/// One member: `token *( OWS ";" OWS param )`, of which only `q` matters. `None` when malformed.
fn parse_member(member: &[u8]) -> Option<(&[u8], u16)> {
    let mut parts = member.split(|&b| b == b';');
    let coding = trim(parts.next()?);
    if coding.is_empty() || !coding.iter().all(|&b| is_tchar(b)) {
        return None;
    }
    let mut q = 1000;
    for param in parts {
        let param = trim(param);
        let (name, value) = match param.iter().position(|&b| b == b'=') {
            Some(i) => (trim(&param[..i]), trim(&param[i + 1..])),
            None => return None,
        };
        if name.eq_ignore_ascii_case(b"q") {
            q = parse_qvalue(value)?;
        }
    }
    Some((coding, q))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
fn parse_qvalue(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &[][..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths = 0u16;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::ContentCoding::{Brotli, Gzip, Zstd};
    use super::*;

    fn choose(v: &str) -> Option<ContentCoding> {
        AcceptEncoding::parse(v.as_bytes()).choose(&ContentCoding::ALL)
    }

    #[test]
    fn browsers_get_the_server_preference() {
        assert_eq!(choose("gzip, deflate, br, zstd"), Some(Brotli));
        assert_eq!(choose("gzip, deflate"), Some(Gzip));
        assert_eq!(choose("zstd, gzip"), Some(Zstd));
    }

    #[test]
    fn q_values_decide_before_server_order() {
        assert_eq!(choose("br;q=0.5, gzip;q=0.8"), Some(Gzip));
        assert_eq!(choose("br;q=0.999, gzip"), Some(Gzip));
        assert_eq!(choose("br ; q=1.000 , gzip;Q=0.9"), Some(Brotli));
        assert_eq!(choose("gzip;q=0, br;q=0"), None);
    }

    #[test]
    fn substrings_and_unknown_codings_are_not_matches() {
        assert_eq!(choose("xbr, gzipx, deflate, identity"), None);
        assert_eq!(choose("compress"), None);
        assert_eq!(choose(""), None);
        assert_eq!(choose("x-gzip"), Some(Gzip));
    }

    #[test]
    fn wildcard_applies_to_codings_not_named() {
        assert_eq!(choose("*"), Some(Brotli));
        assert_eq!(choose("br;q=0, *"), Some(Zstd));
        assert_eq!(choose("*;q=0, gzip"), Some(Gzip));
        assert_eq!(choose("*;q=0"), None);
    }

    #[test]
    fn malformed_members_are_skipped_alone() {
        // Out of range, too many decimals, not a number, missing '=': each member is dropped.
        assert_eq!(choose("br;q=1.5, gzip"), Some(Gzip));
        assert_eq!(choose("br;q=2, gzip;q=0.1"), Some(Gzip));
        assert_eq!(choose("br;q=0.0001, gzip;q=0.1"), Some(Gzip));
        assert_eq!(choose("br;q=-1, zstd;q=abc, gzip;q"), None);
        assert_eq!(choose("b r, g\"zip"), None);
        assert_eq!(choose(",,, ;q=1, gzip"), Some(Gzip));
        assert_eq!(choose("\u{0}\u{7f}, gzip"), Some(Gzip));
    }

    #[test]
    fn first_mention_wins_and_members_are_bounded() {
        assert_eq!(choose("gzip;q=0, gzip"), None);
        let many = format!("{}gzip", "x, ".repeat(MAX_MEMBERS));
        assert_eq!(choose(&many), None);
    }

    #[test]
    fn ranked_lists_every_acceptable_coding() {
        let a = AcceptEncoding::parse(b"gzip;q=0.9, br, zstd;q=0.9");
        assert_eq!(a.ranked(&ContentCoding::ALL), vec![Brotli, Zstd, Gzip]);
        assert_eq!(a.ranked(&[Gzip, Zstd]), vec![Gzip, Zstd]);
        assert_eq!(a.weight(Gzip), 900);
    }
}
