//! Build script: for a Windows target, embeds the icon, the version information and the
//! manifest (`assets/windows/`) into `sockdbg.exe` with winresource (mingw's
//! `x86_64-w64-mingw32-windres` when cross-building from Linux). Other targets need nothing.

fn main() {
    println!("cargo:rerun-if-changed=assets/windows/sockdbg.ico");
    println!("cargo:rerun-if-changed=assets/windows/sockdbg.manifest");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let mut resource = winresource::WindowsResource::new();
    resource
        .set_icon("assets/windows/sockdbg.ico")
        .set_manifest_file("assets/windows/sockdbg.manifest")
        .set("ProductName", "sockdbg")
        .set("FileDescription", "sockdbg socket debugger")
        .set("LegalCopyright", "MIT OR Apache-2.0");
    // Only the binary gets the resources: test executables need no icon.
    if let Err(e) = resource.compile_for("sockdbg") {
        // Without the resources the exe still works (no icon in Explorer, no manifest):
        // stop the build anyway, so a release never ships without them by accident.
        panic!("cannot embed the Windows resources (is mingw's windres installed?): {e}");
    }
}
