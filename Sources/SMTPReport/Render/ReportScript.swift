/// The page's scripts. `errorCatcher` runs first and writes any uncaught error into
/// `#script-errors` (the browser tests read it); `main` reads `#report-data`, fills the filter
/// menus, pages the session list and draws the selected session's ladder as SVG. The DOM holds
/// one page of the list and one ladder at a time, whatever the number of sessions.
enum ReportScript {
    static let errorCatcher = """
        window.__reportErrors=[];window.onerror=function(m,s,l,c){window.__reportErrors.push(String(m)+" ("+l+":"+c+")");
        var b=document.getElementById("script-errors");if(b){b.hidden=false;b.textContent=window.__reportErrors.join("\\n");}};
        """

    static let main = ReportScriptSource.text
}
