/// The page's scripts, from `Resources/` (embedded into the binary at build time, see
/// Package.swift). `errorCatcher` runs first and writes any uncaught error into `#script-errors`
/// (the browser tests read it); `main` holds `ReportData` — the one definition of the layout
/// `ReportDataEncoder` writes, and its reader — then the page: it reads `#report-data`, fills the
/// filter menus, pages the session list and draws the selected session's ladder as SVG.
enum ReportScript {
    static let errorCatcher = String(decoding: PackageResources.report_errors_js, as: UTF8.self)
    static let main = String(decoding: PackageResources.report_js, as: UTF8.self)
}
