/// The page's stylesheet, `Resources/report.css` embedded at build time (system fonts only:
/// nothing is fetched).
enum ReportStyle {
    static let css = String(decoding: PackageResources.report_css, as: UTF8.self)
}
