//! The engine's house has no circles: no module of `src/engine` reaches itself through the
//! modules it uses (DESIGN.md, "Growing the house"; issue 14). Session kinds and jobs depend
//! on the shared types in `engine/session.rs`, the dispatcher depends on the kinds, and
//! nothing leads back.
//!
//! The check reads the sources, not the compiler: each file is a node, and every path in it
//! that names another engine module is an edge (`use super::x`, `super::super::x::y`,
//! `crate::engine::x`, `use super::{a, b::{c}}`, `self::child` or `child::item` for a child
//! module, in code and in its tests alike). A path to an item of a directory's `mod.rs`
//! (`super::helper` from a child) is an edge to that `mod.rs`: keep a directory's `mod.rs` a
//! facade that declares and re-exports, and put what its children share in a file of its
//! own. Comments and string literals are skipped. On failure it prints each circle's files
//! and the lines that close it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path from the crate root: `["engine", "ws", "client"]`.
type ModPath = Vec<String>;

/// One use of another module: where it is written and which module it names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: ModPath,
    to: ModPath,
    line: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Other(char),
}

/// Tokens with their line numbers; comments, strings, chars and lifetimes left out.
fn tokens(source: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if at(i) == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            'r' | 'b' if raw_string_start(&chars, i).is_some() => {
                let (hashes, body) = raw_string_start(&chars, i).unwrap_or((0, i));
                let closing: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                i = body;
                while i < chars.len() && !chars[i..].starts_with(&closing) {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += closing.len();
            }
            '\'' => {
                if at(i + 1) == '\\' {
                    // A char literal with an escape: up to its closing quote.
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' {
                    i += 3; // 'x'
                } else {
                    i += 1; // a lifetime: its name is read as an identifier
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push((Tok::Ident(word), line));
            }
            ':' if at(i + 1) == ':' => {
                out.push((Tok::PathSep, line));
                i += 2;
            }
            '{' | '}' | ',' | ';' => {
                let tok = match c {
                    '{' => Tok::Open,
                    '}' => Tok::Close,
                    ',' => Tok::Comma,
                    _ => Tok::Semi,
                };
                out.push((tok, line));
                i += 1;
            }
            other => {
                out.push((Tok::Other(other), line));
                i += 1;
            }
        }
    }
    out
}

/// `(hashes, index after the opening quote)` when a raw or byte string starts at `i`.
fn raw_string_start(chars: &[char], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None; // inside an identifier
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    let raw = chars.get(j) == Some(&'r');
    if raw {
        j += 1;
    }
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    if !raw || chars.get(j + hashes) != Some(&'"') {
        return None; // not raw: `b"..."` is read as `b` and a string, escapes and all
    }
    Some((hashes, j + hashes + 1))
}

/// Paths read at a position: each a list of segments (a group `a::{b, c::d}` gives
/// `a::b` and `a::c::d`), plus the index after them.
fn read_paths(toks: &[(Tok, usize)], start: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = start;
    loop {
        match toks.get(i) {
            Some((Tok::Ident(word), _)) => {
                prefix.push(word.clone());
                i += 1;
            }
            _ => return (vec![prefix], i),
        }
        match (toks.get(i), toks.get(i + 1)) {
            (Some((Tok::PathSep, _)), Some((Tok::Ident(_), _))) => i += 1,
            (Some((Tok::PathSep, _)), Some((Tok::Open, _))) => {
                i += 2;
                let mut paths = Vec::new();
                loop {
                    match toks.get(i) {
                        Some((Tok::Close, _)) | None => break,
                        Some((Tok::Comma, _)) => i += 1,
                        Some((Tok::Ident(_), _)) => {
                            let (inner, next) = read_paths(toks, i);
                            for path in inner {
                                let mut full = prefix.clone();
                                full.extend(path);
                                paths.push(full);
                            }
                            // `as name`, a glob or anything else: skip to the next item.
                            i = next;
                            while !matches!(toks.get(i), Some((Tok::Comma | Tok::Close, _)) | None)
                            {
                                i += 1;
                            }
                        }
                        Some(_) => i += 1, // `*`
                    }
                }
                return (paths, i + 1);
            }
            _ => return (vec![prefix], i),
        }
    }
}

/// The module `segments` names, written inside `scope`: the longest file module it reaches
/// (`None` when it starts with none of `crate`, `super`, `self` or a child of `scope`).
fn resolve(
    scope: &[String],
    segments: &[String],
    modules: &BTreeSet<ModPath>,
    inline: &BTreeSet<ModPath>,
) -> Option<ModPath> {
    let known = |path: &ModPath| modules.contains(path) || inline.contains(path);
    let (mut current, rest): (ModPath, &[String]) = match segments.first()?.as_str() {
        "crate" => (Vec::new(), &segments[1..]),
        "super" | "self" => (scope.to_vec(), segments),
        first => {
            let mut child = scope.to_vec();
            child.push(first.to_string());
            if !known(&child) {
                return None;
            }
            (scope.to_vec(), segments)
        }
    };
    for segment in rest {
        match segment.as_str() {
            "super" => {
                current.pop()?;
            }
            "self" => {}
            name => {
                let mut next = current.clone();
                next.push(name.to_string());
                if !known(&next) {
                    break;
                }
                current = next;
            }
        }
    }
    while !modules.contains(&current) && !current.is_empty() {
        current.pop(); // an inline module (`mod tests`) belongs to its file
    }
    Some(current)
}

/// Whether the path starting at `i` continues one (`a::b`) or names a visibility
/// (`pub(in crate::engine)`), neither of which is a use.
fn follows_path_sep_or_in(toks: &[(Tok, usize)], i: usize) -> bool {
    let before = |back: usize| i.checked_sub(back).map(|p| &toks[p].0);
    match before(1) {
        Some(Tok::PathSep) => true,
        Some(Tok::Ident(word)) if word == "in" => {
            matches!(before(2), Some(Tok::Other('(')))
                && matches!(before(3), Some(Tok::Ident(p)) if p == "pub")
        }
        _ => false,
    }
}

/// Every use of another module of `root` in `sources` (module path -> source text).
fn edges(sources: &BTreeMap<ModPath, String>, root: &str) -> Vec<Edge> {
    let modules: BTreeSet<ModPath> = sources.keys().cloned().collect();
    let mut found = BTreeSet::new();
    for (module, source) in sources {
        let toks = tokens(source);
        // Inline modules (`mod tests { ... }`) first, so paths inside them resolve.
        let mut inline = BTreeSet::new();
        let mut scopes: Vec<(usize, ModPath)> = vec![(0, module.clone())];
        let mut depth = 0usize;
        let mut i = 0;
        while i < toks.len() {
            let scope = scopes.last().map(|(_, s)| s.clone()).unwrap_or_default();
            match &toks[i].0 {
                Tok::Ident(word) if word == "mod" => {
                    if let (Some((Tok::Ident(name), _)), Some((Tok::Open, _))) =
                        (toks.get(i + 1), toks.get(i + 2))
                    {
                        let mut path = scope.clone();
                        path.push(name.clone());
                        inline.insert(path.clone());
                        depth += 1;
                        scopes.push((depth, path));
                        i += 3;
                        continue;
                    }
                    i += 2; // `mod name;` declares a child: no use of it
                    continue;
                }
                Tok::Open => depth += 1,
                Tok::Close => {
                    if scopes.last().is_some_and(|(d, _)| *d == depth) && scopes.len() > 1 {
                        scopes.pop();
                    }
                    depth = depth.saturating_sub(1);
                }
                Tok::Ident(_) if !follows_path_sep_or_in(&toks, i) => {
                    if matches!(toks.get(i + 1), Some((Tok::PathSep, _))) {
                        let line = toks[i].1;
                        let (paths, next) = read_paths(&toks, i);
                        for path in paths {
                            if let Some(to) = resolve(&scope, &path, &modules, &inline)
                                && to.first().map(String::as_str) == Some(root)
                                && &to != module
                            {
                                found.insert(Edge {
                                    from: module.clone(),
                                    to,
                                    line,
                                });
                            }
                        }
                        // Braces of a group were consumed whole; keep the depth count right.
                        i = next;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    found.into_iter().collect()
}

/// The strongly connected groups of more than one module (Tarjan), each sorted.
fn circles(edges: &[Edge]) -> Vec<Vec<ModPath>> {
    let mut nodes: BTreeSet<ModPath> = BTreeSet::new();
    let mut next: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for edge in edges {
        nodes.insert(edge.from.clone());
        nodes.insert(edge.to.clone());
        next.entry(edge.from.clone())
            .or_default()
            .insert(edge.to.clone());
    }
    struct State {
        index: BTreeMap<ModPath, usize>,
        low: BTreeMap<ModPath, usize>,
        stack: Vec<ModPath>,
        on_stack: BTreeSet<ModPath>,
        groups: Vec<Vec<ModPath>>,
    }
    fn visit(node: &ModPath, next: &BTreeMap<ModPath, BTreeSet<ModPath>>, s: &mut State) {
        let n = s.index.len();
        s.index.insert(node.clone(), n);
        s.low.insert(node.clone(), n);
        s.stack.push(node.clone());
        s.on_stack.insert(node.clone());
        for to in next.get(node).into_iter().flatten() {
            if !s.index.contains_key(to) {
                visit(to, next, s);
                let low = s.low[node].min(s.low[to]);
                s.low.insert(node.clone(), low);
            } else if s.on_stack.contains(to) {
                let low = s.low[node].min(s.index[to]);
                s.low.insert(node.clone(), low);
            }
        }
        if s.low[node] == s.index[node] {
            let mut group = Vec::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(&top);
                let done = &top == node;
                group.push(top);
                if done {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.groups.push(group);
            }
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for node in &nodes {
        if !state.index.contains_key(node) {
            visit(node, &next, &mut state);
        }
    }
    state.groups
}

/// The sources of every `.rs` file under `src/<root>`, by module path.
fn read_tree(src: &Path, root: &str) -> BTreeMap<ModPath, String> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&src.join(root), &mut files);
    let mut tree = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src");
        let mut module: ModPath = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if module.last().is_some_and(|last| last == "mod") {
            module.pop();
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        tree.insert(module, text);
    }
    tree
}

fn file_of(module: &ModPath, sources: &BTreeMap<ModPath, String>) -> String {
    let is_dir = sources
        .keys()
        .any(|m| m.len() > module.len() && m.starts_with(module));
    let path = module.join("/");
    if is_dir {
        format!("src/{path}/mod.rs")
    } else {
        format!("src/{path}.rs")
    }
}

/// What to print about each circle: its files, and the uses among them.
fn report(sources: &BTreeMap<ModPath, String>, edges: &[Edge]) -> Vec<String> {
    circles(edges)
        .iter()
        .map(|group| {
            let mut text = format!(
                "a circle of {} files: {}",
                group.len(),
                group
                    .iter()
                    .map(|m| file_of(m, sources))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for edge in edges {
                if group.contains(&edge.from) && group.contains(&edge.to) {
                    text.push_str(&format!(
                        "\n  {}:{} uses {}",
                        file_of(&edge.from, sources),
                        edge.line,
                        file_of(&edge.to, sources)
                    ));
                }
            }
            text
        })
        .collect()
}

#[test]
fn the_engine_has_no_import_circles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let sources = read_tree(&src, "engine");
    assert!(sources.len() > 20, "the engine's files are read");
    let edges = edges(&sources, "engine");
    // The dispatcher runs the kinds: a check that sees no edges would prove nothing.
    let dispatch: ModPath = vec!["engine".into(), "dispatch".into()];
    assert!(
        edges.iter().filter(|e| e.from == dispatch).count() > 5,
        "the dispatcher's uses are seen: {edges:?}"
    );
    let circles = report(&sources, &edges);
    assert!(circles.is_empty(), "\n{}\n", circles.join("\n"));
}

#[test]
fn nothing_outside_ui_uses_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    for root in std::fs::read_dir(&src).expect("src").flatten() {
        let name = root.file_name().to_string_lossy().into_owned();
        if name == "ui" {
            continue;
        }
        let root_name = name.trim_end_matches(".rs").to_string();
        let sources = if root.path().is_dir() {
            read_tree(&src, &root_name)
        } else {
            let text = std::fs::read_to_string(root.path()).expect("readable");
            BTreeMap::from([(vec![root_name.clone()], text)])
        };
        for (module, text) in &sources {
            for (n, line) in text.lines().enumerate() {
                if line.contains("crate::ui") {
                    offenders.push(format!("{}:{}: {line}", file_of(module, &sources), n + 1));
                }
            }
        }
    }
    assert!(offenders.is_empty(), "\n{}\n", offenders.join("\n"));
}

/// The check itself catches each way of writing a use, so a passing tree means something.
#[test]
fn the_check_finds_circles_written_every_way() {
    let tree = |files: &[(&str, &str)]| -> BTreeMap<ModPath, String> {
        files
            .iter()
            .map(|(m, s)| (m.split("::").map(String::from).collect(), s.to_string()))
            .collect()
    };
    let found = |files: &[(&str, &str)]| {
        let sources = tree(files);
        circles(&edges(&sources, "engine")).len()
    };
    let kind = "engine::kind";
    let dispatch = "engine::dispatch";
    // Each pair is a circle; the same pair with the back edge only in a comment or a string
    // is not.
    let ways = [
        "use super::dispatch::SessionContext;",
        "pub(in crate::engine) fn f() { for x in super::dispatch::all() {} }",
        "use super::{net, dispatch::{self, Outcome}};",
        "use super::{\n    net,\n    dispatch,\n};",
        "fn f() { super::dispatch::run(); }",
        "use crate::engine::dispatch::Outcome;",
        "#[cfg(test)]\nmod tests {\n    use super::super::dispatch::Outcome;\n}",
    ];
    for way in ways {
        let files = [
            ("engine", "mod dispatch;\nmod kind;\nmod net;"),
            (dispatch, "use super::kind;"),
            (kind, way),
            ("engine::net", ""),
        ];
        assert_eq!(found(&files), 1, "{way}");
    }
    for harmless in [
        "// use super::dispatch::SessionContext;",
        "/* super::dispatch::run() */",
        "const S: &str = \"super::dispatch::run\";",
        "const S: &str = r#\"super::dispatch\"#;",
        "fn f<'a>(c: char) -> bool { c == '{' }\nuse super::net;",
        "#[cfg(test)]\nmod tests {\n    use super::*;\n}",
        "pub(in crate::engine::dispatch) fn f() {}",
        "use super::{net};",
    ] {
        let files = [
            ("engine", "mod dispatch;\nmod kind;\nmod net;"),
            (dispatch, "use super::kind;"),
            (kind, harmless),
            ("engine::net", ""),
        ];
        assert_eq!(found(&files), 0, "{harmless}");
    }
    // A child using its parent's item, while the parent uses the child: a circle.
    let files = [
        ("engine", "mod ws;"),
        (
            "engine::ws",
            "mod client;\npub use client::run;\nfn config() {}",
        ),
        ("engine::ws::client", "use super::config;"),
    ];
    assert_eq!(found(&files), 1);
    // Three files round: one circle of three.
    let files = [
        ("engine", "mod a;\nmod b;\nmod c;"),
        ("engine::a", "use super::b::X;"),
        ("engine::b", "use super::c::Y;"),
        ("engine::c", "use super::a::Z;"),
    ];
    let sources = tree(&files);
    let circles = circles(&edges(&sources, "engine"));
    assert_eq!(circles.len(), 1);
    assert_eq!(circles[0].len(), 3);
}
