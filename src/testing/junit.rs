//! JUnit XML for CI systems (`--junit OUT.xml`): one `<testsuite>` per file, one
//! `<testcase>` per case, a failed case with a `<failure>` whose message is the failing step
//! and whose text holds what arrived (text and hex) and the case's step lines. Written with
//! quick-xml, which escapes everything that needs it.

use std::io::Write;
use std::time::Duration;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// One case's result.
#[derive(Clone, Debug, Default)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// How long it took.
    pub elapsed: Duration,
    /// The failing step in one line (`12:3 expect …: expected … within …`), if it failed.
    pub failure: Option<String>,
    /// What arrived, for the failure's text.
    pub detail: String,
    /// The case's step lines.
    pub output: Vec<String>,
}

/// One file's results.
#[derive(Clone, Debug, Default)]
pub struct FileResult {
    /// The file as given.
    pub name: String,
    /// Its cases in order.
    pub cases: Vec<CaseResult>,
    /// How long it took.
    pub elapsed: Duration,
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

/// Writes `files` as JUnit XML.
///
/// # Errors
/// When `out` cannot be written.
pub fn write(out: impl Write, files: &[FileResult]) -> std::io::Result<()> {
    let mut writer = Writer::new_with_indent(out, b' ', 2);
    let total: usize = files.iter().map(|f| f.cases.len()).sum();
    let failed = |cases: &[CaseResult]| cases.iter().filter(|c| c.failure.is_some()).count();
    let all_failed: usize = files.iter().map(|f| failed(&f.cases)).sum();
    let elapsed: Duration = files.iter().map(|f| f.elapsed).sum();
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "sockdbg test"));
    suites.push_attribute(("tests", total.to_string().as_str()));
    suites.push_attribute(("failures", all_failed.to_string().as_str()));
    suites.push_attribute(("time", seconds(elapsed).as_str()));
    writer.write_event(Event::Start(suites))?;
    for file in files {
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", file.name.as_str()));
        suite.push_attribute(("tests", file.cases.len().to_string().as_str()));
        suite.push_attribute(("failures", failed(&file.cases).to_string().as_str()));
        suite.push_attribute(("errors", "0"));
        suite.push_attribute(("time", seconds(file.elapsed).as_str()));
        writer.write_event(Event::Start(suite))?;
        for case in &file.cases {
            let mut testcase = BytesStart::new("testcase");
            testcase.push_attribute(("name", case.name.as_str()));
            testcase.push_attribute(("classname", file.name.as_str()));
            testcase.push_attribute(("time", seconds(case.elapsed).as_str()));
            writer.write_event(Event::Start(testcase))?;
            if let Some(message) = &case.failure {
                let mut failure = BytesStart::new("failure");
                failure.push_attribute(("message", message.as_str()));
                failure.push_attribute(("type", "ScenarioFailure"));
                writer.write_event(Event::Start(failure))?;
                writer.write_event(Event::Text(BytesText::new(&case.detail)))?;
                writer.write_event(Event::End(BytesEnd::new("failure")))?;
            }
            if !case.output.is_empty() {
                writer.write_event(Event::Start(BytesStart::new("system-out")))?;
                let text = case.output.join("\n");
                writer.write_event(Event::Text(BytesText::new(&text)))?;
                writer.write_event(Event::End(BytesEnd::new("system-out")))?;
            }
            writer.write_event(Event::End(BytesEnd::new("testcase")))?;
        }
        writer.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    writer.write_event(Event::End(BytesEnd::new("testsuites")))?;
    writer.into_inner().write_all(b"\n")
}
