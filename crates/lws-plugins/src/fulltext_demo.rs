//! `fulltext-demo`: libwebsockets' `protocol_fulltext_demo`. Serves an [`lws_fts`] index as JSON under its
//! mount: `GET <mount>/a/<prefix>` autocompletes a prefix, `GET <mount>/r/<term>` lists the files and lines
//! holding a word, with the line text quoted from the indexed files.
//!
//! Autocomplete: `{"indexed":1,"ac":[{"ac":"word","matches":own,"agg":aggregate,"elided":0|1}],"elided":0|1}`.
//! Results: the same plus `"fp":[{"path":"...","matches":n,"origlines":n,"hits":[{"l":line,"o":offset,
//! "s":"line text"}]}]`. At most 10 completions and 10 files, as in libwebsockets.

use std::fmt::Write as _;
use std::fs::File;
use std::sync::Arc;

use lws::{HttpCtx, Protocol, ProtocolInitError, Pvo, Response};
use lws_fts::{Autocomplete, Index, SearchOptions};

use crate::json::json_str;

/// Most completions and files in one answer.
const MAX_RESULTS: usize = 10;

/// The full-text search demo protocol; per-vhost option `indexpath` names the index file.
#[derive(Debug, Clone)]
pub struct FulltextDemo {
    index: Arc<Index<File>>,
}

impl FulltextDemo {
    /// Opens the index named by the `indexpath` option.
    pub fn from_pvo(pvo: &Pvo) -> Result<FulltextDemo, ProtocolInitError> {
        let err = |message: String| ProtocolInitError {
            protocol: "fulltext-demo".into(),
            message,
        };
        let path = pvo
            .get("indexpath")
            .ok_or_else(|| err("the indexpath option is required".into()))?;
        let index = Index::open(path).map_err(|e| err(format!("{path}: {e}")))?;
        Ok(FulltextDemo {
            index: Arc::new(index),
        })
    }

    fn autocomplete_json(&self, prefix: &str, out: &mut String) -> lws_fts::Result<()> {
        let ac = if prefix.is_empty() {
            Autocomplete::default()
        } else {
            self.index.autocomplete(prefix, MAX_RESULTS)?
        };
        out.push_str("\"ac\":[");
        let last = ac.completions.len().saturating_sub(1);
        for (i, c) in ac.completions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"ac\":");
            json_str(out, &c.word);
            let elided = u8::from(ac.elided && i == last);
            let _ = write!(
                out,
                ",\"matches\":{},\"agg\":{},\"elided\":{elided}}}",
                c.own, c.agg
            );
        }
        let _ = write!(out, "],\"elided\":{}", u8::from(ac.elided));
        Ok(())
    }

    fn results_json(&self, term: &str, out: &mut String) -> lws_fts::Result<()> {
        self.autocomplete_json(term, out)?;
        let opts = SearchOptions {
            max_files: MAX_RESULTS,
            max_lines: 20,
            quote: true,
        };
        let r = self.index.search(term, &opts)?;
        out.push_str(",\"fp\":[");
        for (i, f) in r.files.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"path\":");
            json_str(out, &f.path);
            let _ = write!(
                out,
                ",\"matches\":{},\"origlines\":{},\"hits\":[",
                f.matches, f.lines
            );
            for (j, h) in f.hits.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{{\"l\":{},\"o\":{},\"s\":", h.line, h.offset);
                json_str(out, h.text.as_deref().unwrap_or(""));
                out.push('}');
            }
            out.push_str("]}");
        }
        let _ = write!(out, "],\"files\":{},\"total\":{}", r.total_files, r.matches);
        Ok(())
    }
}

impl Protocol for FulltextDemo {
    type Session = ();

    fn http(&self, _: &mut (), cx: &mut HttpCtx<'_>) {
        let req = cx.request();
        if req.method() != "GET" && req.method() != "HEAD" {
            cx.respond(Response::error(405).header("allow", "GET, HEAD"));
            return;
        }
        let path = req.mount_path();
        let mut json = String::from("{\"indexed\":1,");
        let r = if let Some(prefix) = path.strip_prefix("/a/") {
            self.autocomplete_json(prefix, &mut json)
        } else if let Some(term) = path.strip_prefix("/r/") {
            self.results_json(term, &mut json)
        } else {
            cx.respond(Response::error(404));
            return;
        };
        if r.is_err() {
            // The index is damaged or the query hit its work limit: report "not indexed" rather than fail.
            json = String::from("{\"indexed\":0");
        }
        json.push('}');
        cx.respond(
            Response::new(200)
                .header("content-type", "application/json")
                .header("cache-control", "no-store")
                .body(json),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\nd\u{1}<é>");
        assert_eq!(s, r#""a\"b\\c\nd\u0001\u003cé\u003e""#);
    }

    #[test]
    fn answers_from_an_index() {
        let dir = std::env::temp_dir().join(format!("lws-plugins-fts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("t.txt");
        std::fs::write(&text, "Hello \"world\"\nhello help\n").unwrap();
        let idx = dir.join("t.idx");
        let mut b = lws_fts::IndexBuilder::create(&idx).unwrap();
        b.index_path(&text, 0).unwrap();
        b.finish().unwrap();
        let pvo = Pvo {
            name: "fulltext-demo".into(),
            value: String::new(),
            children: vec![Pvo {
                name: "indexpath".into(),
                value: idx.to_string_lossy().into_owned(),
                children: vec![],
            }],
        };
        let demo = FulltextDemo::from_pvo(&pvo).unwrap();
        let mut s = String::new();
        demo.autocomplete_json("hel", &mut s).unwrap();
        assert_eq!(
            s,
            "\"ac\":[{\"ac\":\"hello\",\"matches\":2,\"agg\":2,\"elided\":0},\
             {\"ac\":\"help\",\"matches\":1,\"agg\":1,\"elided\":0}],\"elided\":0"
        );
        let mut s = String::new();
        demo.results_json("world", &mut s).unwrap();
        assert!(
            s.contains("\"hits\":[{\"l\":1,\"o\":0,\"s\":\"Hello \\\"world\\\"\"}]"),
            "{s}"
        );
        let missing = Pvo {
            name: "fulltext-demo".into(),
            ..Pvo::default()
        };
        assert!(FulltextDemo::from_pvo(&missing).is_err());
        let _ = std::fs::remove_dir_all(dir);
    }
}
