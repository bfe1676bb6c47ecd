/// `/static/console.css`: the console's one style sheet, served from the executable (no
/// CDN, no web fonts: deployments may be offline).
enum StyleSheet {
    static let path = "/static/console.css"

    static let text = """
    *{box-sizing:border-box}
    body{margin:0;font:14px/1.5 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#222;background:#f5f6f8}
    header{display:flex;justify-content:space-between;align-items:center;background:#1f2d3d;color:#fff;padding:0 16px;flex-wrap:wrap}
    header nav a{color:#cfd8e3;text-decoration:none;display:inline-block;padding:12px 10px}
    header nav a.active,header nav a:hover{color:#fff;background:#2d3e50}
    .who{display:flex;gap:8px;align-items:center}
    .who form{margin:0}
    main{padding:16px 24px;max-width:1280px}
    h1{font-size:20px;margin:8px 0 16px}
    h2{font-size:16px;margin:24px 0 8px}
    table{border-collapse:collapse;width:100%;background:#fff}
    th,td{border:1px solid #e3e6ea;padding:6px 8px;text-align:left;vertical-align:top;word-break:break-all}
    th{background:#fafbfc;font-weight:600}
    .flash{background:#e7f6ec;border:1px solid #9fd9b0;padding:8px 12px}
    .error{background:#fdecec;border:1px solid #f1a6a6;padding:8px 12px}
    .panel{background:#fff;border:1px solid #e3e6ea;padding:16px;margin:0 0 16px;max-width:720px}
    .panel label{display:block;margin:0 0 12px}
    .panel input,.panel select,.panel textarea{display:block;width:100%;padding:6px;margin-top:4px;border:1px solid #ccd2d8;font:inherit}
    .toolbar{display:flex;gap:8px;align-items:center;margin:0 0 12px}
    .toolbar input{padding:6px;min-width:260px;border:1px solid #ccd2d8;font:inherit}
    button,.button{padding:6px 14px;border:1px solid #409eff;background:#409eff;color:#fff;cursor:pointer;font:inherit;text-decoration:none;display:inline-block}
    button.danger{background:#f56c6c;border-color:#f56c6c}
    .actions{display:flex;gap:8px;flex-wrap:wrap}
    .actions form,td.actions form{display:inline-block;margin:0 4px 4px 0}
    .cards{display:flex;gap:16px;flex-wrap:wrap}
    .card{background:#fff;border:1px solid #e3e6ea;padding:12px 16px;min-width:160px}
    .card .label{display:block;color:#666}
    .card .value{display:block;font-size:24px;font-weight:600;color:#222;text-decoration:none}
    .chart{background:#fff;border:1px solid #e3e6ea;max-width:100%;height:auto}
    .chart rect{fill:#409eff}
    .chart .axis{stroke:#999;stroke-width:1}
    .chart .scale{font-size:10px;fill:#666}
    .pager{margin:12px 0;display:flex;gap:12px}
    .hint{color:#666;font-size:12px}
    .empty{color:#666}
    img.evidence{max-width:160px;max-height:160px;margin:4px}
    dl{display:grid;grid-template-columns:120px 1fr;gap:4px 12px}
    dd{margin:0}
    .content{white-space:pre-wrap;border-top:1px solid #eee;padding-top:8px}
    pre.chatinfo{white-space:pre-wrap;background:#fafbfc;padding:8px}
    """
}
