//! Search over the catalogue in memory: every goods' text in one string, a term's goods as bit
//! marks by position, and the marks of recent terms remembered for as long as the text is the
//! same (a catalogue read whose goods' texts did not change keeps it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::db::entities::goods;

/// Every goods' name, brief and description lower-cased, one after the other: a search term is
/// looked for once in the whole text (SIMD `memmem`), not once per goods and field.
#[derive(Default)]
pub struct SearchText {
    text: String,
    /// Where each goods' text starts, by position.
    starts: Vec<usize>,
    /// The goods each term recently searched for matched. Shoppers search for the same few
    /// words, and a scan of every goods' text was most of a search's cost.
    found: Mutex<TermCache>,
}

/// Terms and their marks, up to `TERM_CACHE_BYTES` (the terms, their marks and what the map
/// spends on each): then it starts again empty, so a stream of one-off terms costs a bounded
/// amount of memory and the popular ones come back at once.
#[derive(Default)]
struct TermCache {
    marks: HashMap<Box<str>, Arc<[u64]>>,
    bytes: usize,
}

/// The most memory one search text spends on remembered terms.
const TERM_CACHE_BYTES: usize = 4 << 20;

/// What a remembered term costs besides its text and marks: two allocations' headers, the two
/// pointers with their lengths, the `Arc` counts and the map's slot and spare capacity.
const TERM_OVERHEAD_BYTES: usize = 128;

impl SearchText {
    pub fn push(&mut self, goods: &goods::Model) {
        self.starts.push(self.text.len());
        // Terms hold neither NUL nor whitespace: no match spans two fields or two goods.
        for field in [&goods.name, &goods.goods_brief, &goods.goods_desc] {
            self.text.push_str(&field.to_lowercase());
            self.text.push('\n');
        }
        self.text.push('\0');
    }

    /// The text of the first `len` goods (no remembered terms: they were for all the goods).
    pub fn prefix(&self, len: usize) -> Self {
        let end = self.starts.get(len).copied().unwrap_or(self.text.len());
        Self {
            text: self.text[..end].to_owned(),
            starts: self.starts[..len.min(self.starts.len())].to_vec(),
            ..Default::default()
        }
    }

    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.starts.shrink_to_fit();
    }

    /// The goods whose text holds `term`, as bits by position (64 to a word), remembered.
    pub fn mentioning(&self, term: &str) -> Arc<[u64]> {
        let lock = || self.found.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(marks) = lock().marks.get(term) {
            return marks.clone();
        }
        let marks: Arc<[u64]> = self.scan(term).into();
        let size = marks.len() * size_of::<u64>() + term.len() + TERM_OVERHEAD_BYTES;
        if size > TERM_CACHE_BYTES {
            return marks;
        }
        let mut cache = lock();
        // The old terms are freed after the lock is let go: other searches need not wait for it.
        let forgotten = (cache.bytes + size > TERM_CACHE_BYTES).then(|| std::mem::take(&mut *cache));
        if cache.marks.insert(term.into(), marks.clone()).is_none() {
            cache.bytes += size;
        }
        drop(cache);
        drop(forgotten);
        marks
    }

    /// `mentioning`, looked for in the text.
    fn scan(&self, term: &str) -> Vec<u64> {
        let mut found = vec![0u64; self.starts.len().div_ceil(64)];
        if term.is_empty() {
            return all_marked(self.starts.len());
        }
        let finder = memchr::memmem::Finder::new(term.as_bytes());
        let text = self.text.as_bytes();
        let mut from = 0;
        while let Some(at) = finder.find(&text[from..]).map(|at| from + at) {
            let goods = self.starts.partition_point(|&start| start <= at) - 1;
            found[goods / 64] |= 1 << (goods % 64);
            // One hit per goods is enough: go on from the next goods' text.
            match self.starts.get(goods + 1) {
                Some(&next) => from = next,
                None => break,
            }
        }
        found
    }
}

/// Every one of `len` goods marked, 64 to a word.
fn all_marked(len: usize) -> Vec<u64> {
    let mut words = vec![u64::MAX; len.div_ceil(64)];
    if let Some(last) = words.last_mut().filter(|_| !len.is_multiple_of(64)) {
        *last = (1 << (len % 64)) - 1;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goods(id: i32, name: &str) -> goods::Model {
        goods::Model { name: name.to_owned(), ..crate::catalog::fragment::tests::model(id, None, "") }
    }

    fn text(names: &[&str]) -> SearchText {
        let mut text = SearchText::default();
        for (id, name) in names.iter().enumerate() {
            text.push(&goods(id as i32 + 1, name));
        }
        text
    }

    #[test]
    fn marks_the_goods_mentioning_a_term_across_words() {
        let names: Vec<String> =
            (0..130).map(|n| if n % 64 == 63 { format!("Apple {n}") } else { format!("pear {n}") }).collect();
        let text = text(&names.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(&*text.mentioning("apple"), &[1 << 63, 1 << 63, 0]);
        // Remembered: the same marks, not a second scan.
        assert!(Arc::ptr_eq(&text.mentioning("apple"), &text.mentioning("apple")));
        assert_eq!(&*text.mentioning(""), &[u64::MAX, u64::MAX, 0b11]);
    }

    #[test]
    fn remembered_terms_stay_within_their_budget() {
        let text = text(&["a"; 64 * 1024]);
        for n in 0..2000 {
            let marks = text.mentioning(&format!("term{n}"));
            assert!(marks.iter().all(|word| *word == 0));
            let bytes = text.found.lock().unwrap().bytes;
            assert!(bytes <= TERM_CACHE_BYTES, "{bytes} bytes after {n} terms");
        }
        let held = text.found.lock().unwrap().marks.len();
        assert!(held > 0 && held < 2000, "{held} terms held");
    }
}
