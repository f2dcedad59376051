/// The page's stylesheet (system fonts only: nothing is fetched).
enum ReportStyle {
    static let css = """
        :root{--fg:#1d2430;--muted:#5f6b7a;--line:#d8dee6;--bg:#f5f7fa;--panel:#fff;--accent:#2f5fa7;
        --ok:#2e7d32;--info:#1f6fb2;--warn:#b26a00;--err:#c0392b;--rewrite:#7a4bb5;--anom:#d35400;--cmd:#34495e}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
        code,.mono,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
        header{background:#1f2a3a;color:#fff;padding:14px 24px 0}
        header h1{margin:0;font-size:19px;font-weight:600}
        header .inputs{margin:2px 0 10px;color:#b9c4d3;font-size:12.5px;word-break:break-all}
        .tabs button{background:none;border:0;color:#c9d3e0;padding:8px 16px;font:inherit;cursor:pointer;border-bottom:3px solid transparent}
        .tabs button.active{color:#fff;border-bottom-color:#6fa8ff}
        .tabs .count{background:#3a4a60;border-radius:9px;padding:0 7px;font-size:12px;margin-left:4px}
        main{padding:18px 24px}
        footer{padding:10px 24px 24px;color:var(--muted);font-size:12px}
        .cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:18px}
        .card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 16px;min-width:190px}
        .card-title{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
        .card-value{font-size:26px;font-weight:600}
        .card-detail{color:var(--muted);font-size:12px}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:12px}
        .chart{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 10px 8px}
        .chart figcaption{font-weight:600;margin-bottom:6px}
        .bars text{font-size:12px;fill:var(--fg)}
        .bars .bar-value{fill:var(--muted)}
        .bar-row.clickable{cursor:pointer}
        .bar-row.clickable:hover rect{opacity:.75}
        .plain{fill:#5b8bd0}.rule{fill:#7a4bb5}.anomaly{fill:var(--anom)}
        .act-forward{fill:#5b8bd0}.act-reject{fill:var(--err)}.act-rewrite{fill:var(--rewrite)}.act-disconnect{fill:#222}.act-would{fill:#e0a400}
        .reply-server{fill:#4f9a55}.reply-local{fill:#e08a2e}
        .legend{font-size:12px;color:var(--muted);display:flex;flex-wrap:wrap;gap:10px;margin-top:4px}
        .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
        .swatch.act-forward{background:#5b8bd0}.swatch.act-reject{background:var(--err)}.swatch.act-rewrite{background:var(--rewrite)}
        .swatch.act-disconnect{background:#222}.swatch.act-would{background:#e0a400}.swatch.reply-server{background:#4f9a55}.swatch.reply-local{background:#e08a2e}
        .empty{color:var(--muted)}
        .filters{display:flex;flex-wrap:wrap;gap:10px;align-items:end;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin-bottom:12px}
        .filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
        .filters input,.filters select{font:inherit;padding:4px 6px;border:1px solid #b8c2cf;border-radius:5px;min-width:150px;color:var(--fg)}
        button{font:inherit;cursor:pointer}
        .filters button,.pager button{padding:4px 12px;border:1px solid #b8c2cf;border-radius:5px;background:#fff}
        .split{display:grid;grid-template-columns:minmax(360px,460px) minmax(0,1fr);gap:14px;align-items:start}
        .list-pane,.detail-pane{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px}
        .list-status{color:var(--muted);font-size:12px;margin-bottom:6px}
        table{border-collapse:collapse;width:100%}
        #session-list{table-layout:fixed}
        #session-list col.c-id{width:30%}#session-list col.c-client{width:25%}#session-list col.c-sender{width:22%}#session-list col.c-msgs{width:6%}#session-list col.c-flags{width:17%}
        #session-list th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:4px 6px}
        #session-list td{padding:5px 6px;border-bottom:1px solid #eef1f5;font-size:12.5px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        #session-list tbody tr{cursor:pointer}
        #session-list tbody tr:hover{background:#f0f5fc}
        #session-list tbody tr.selected{background:#dde9fb}
        .flag{display:inline-block;border-radius:4px;padding:0 4px;font-size:11px;margin-right:2px;color:#fff;font-weight:600}
        .flag.rej{background:var(--err)}.flag.anom{background:var(--anom)}.flag.open{background:#7b8794}.flag.rw{background:var(--rewrite)}
        .pager{display:flex;justify-content:space-between;align-items:center;margin-top:8px;font-size:12px;color:var(--muted)}
        .pager button:disabled{opacity:.4;cursor:default}
        .detail-pane h2{font-size:16px;margin:2px 0 6px;word-break:break-all}
        .meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;font-size:12.5px;margin-bottom:10px}
        .meta dt{color:var(--muted)}.meta dd{margin:0;word-break:break-all}
        .messages{margin-bottom:10px;font-size:12.5px}
        .messages th{text-align:left;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line);padding:3px 6px}
        .messages td{padding:3px 6px;border-bottom:1px solid #eef1f5;word-break:break-all}
        .ladder-wrap{overflow-x:auto}
        svg.ladder{display:block;width:100%;max-width:860px;height:auto;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px}
        .ladder .lifeline{stroke:#9aa5b4;stroke-dasharray:4 4}
        .ladder .actor rect{fill:#1f2a3a}.ladder .actor text{fill:#fff;font-family:system-ui,sans-serif;font-size:12.5px;font-weight:600}
        .ladder .actor .sub{font-weight:400;fill:#c9d3e0;font-size:11px}
        .ladder .time{fill:#8a96a5;font-size:11px}
        .ladder .shaft{stroke-width:1.6;fill:none}
        .ladder .cmd .shaft{stroke:var(--cmd)}.ladder .cmd .head{fill:var(--cmd)}.ladder .cmd .label{fill:var(--cmd)}
        .ladder .c2 .shaft{stroke:var(--ok)}.ladder .c2 .head{fill:var(--ok)}.ladder .c2 .label{fill:var(--ok)}
        .ladder .c3 .shaft{stroke:var(--info)}.ladder .c3 .head{fill:var(--info)}.ladder .c3 .label{fill:var(--info)}
        .ladder .c4 .shaft{stroke:var(--warn)}.ladder .c4 .head{fill:var(--warn)}.ladder .c4 .label{fill:var(--warn)}
        .ladder .c5 .shaft,.ladder .c0 .shaft{stroke:var(--err)}.ladder .c5 .head,.ladder .c0 .head{fill:var(--err)}.ladder .c5 .label,.ladder .c0 .label{fill:var(--err)}
        .ladder .local .shaft{stroke-dasharray:6 3}
        .ladder .unsolicited .shaft{stroke-dasharray:2 3}
        .ladder .rejected .shaft{stroke:var(--err)}.ladder .rejected .head{fill:var(--err)}
        .ladder .fwd .shaft{stroke:var(--rewrite)}.ladder .fwd .head{fill:var(--rewrite)}.ladder .fwd .label{fill:var(--rewrite)}
        .ladder .stop{stroke:var(--err);stroke-width:2.5}
        .ladder .pass{fill:#fff;stroke:#7b8794;stroke-width:1.3}
        .ladder .badge rect{rx:3px}.ladder .badge text{font-family:system-ui,sans-serif;font-size:11px;fill:#fff}
        .ladder .badge.b-reject rect{fill:var(--err)}.ladder .badge.b-rewrite rect{fill:var(--rewrite)}.ladder .badge.b-log rect{fill:#55657a}
        .ladder .badge.b-would rect{fill:#c48a00}.ladder .badge.b-disconnect rect{fill:#222}.ladder .badge.b-local rect{fill:#e08a2e}
        .ladder .stripped-kw{text-decoration:line-through;fill:var(--err)}
        .ladder .stripped-note{fill:var(--muted);font-family:system-ui,sans-serif;font-size:11px}
        .ladder .data-bar{fill:#dce8f8;stroke:#5b8bd0}
        .ladder .data-text{fill:#1f3f73;font-size:11.5px}
        .ladder .anomaly-band{fill:#fdebd9}
        .ladder .anomaly-flag{fill:var(--anom);font-weight:700}
        .ladder .anomaly-text{fill:#8a3a00;font-size:11.5px}
        .ladder .end-line{stroke:#1f2a3a;stroke-width:2}
        .ladder .end-text{fill:var(--fg);font-family:system-ui,sans-serif;font-size:12px;font-weight:600}
        .more{margin-top:8px}
        #script-errors{background:#fee;color:#900;padding:10px;font-family:monospace;white-space:pre-wrap}
        @media (max-width:1000px){.split{grid-template-columns:1fr}}
        """
}
