/* The crash-report dialog (the browser SDK's showReportDialog loads it with a <script> tag).
   Built with DOM calls and textContent only: nothing the URL or the user sends becomes markup.
   OPTIONS is defined by the line the server puts before this file. */
(function (options) {
  "use strict";
  var doc = document;
  function el(tag, props, style) {
    var node = doc.createElement(tag);
    Object.keys(props || {}).forEach(function (k) { node[k] = props[k]; });
    Object.keys(style || {}).forEach(function (k) { node.style[k] = style[k]; });
    return node;
  }
  function field(label, input) {
    var wrap = el("label", {}, { display: "block", margin: "0 0 12px" });
    wrap.appendChild(el("span", { textContent: label }, { display: "block", fontSize: "13px", margin: "0 0 4px" }));
    wrap.appendChild(input);
    return wrap;
  }
  var inputStyle = { width: "100%", boxSizing: "border-box", padding: "6px", font: "inherit" };
  var overlay = el("div", { className: "bugsink-report-dialog" }, {
    position: "fixed", inset: "0", background: "rgba(0,0,0,0.45)", zIndex: "2147483647",
    display: "flex", alignItems: "center", justifyContent: "center",
  });
  var box = el("form", {}, {
    background: "#fff", color: "#222", font: "14px/1.4 system-ui, sans-serif", padding: "20px",
    borderRadius: "6px", width: "min(440px, 92vw)", boxShadow: "0 8px 30px rgba(0,0,0,0.3)",
  });
  box.appendChild(el("h2", { textContent: options.title }, { margin: "0 0 6px", fontSize: "18px" }));
  box.appendChild(el("p", { textContent: options.subtitle }, { margin: "0 0 14px", color: "#555" }));
  var name = el("input", { name: "name", required: true, maxLength: 128, value: options.name }, inputStyle);
  var email = el("input", { name: "email", type: "email", required: true, maxLength: 128, value: options.email }, inputStyle);
  var comments = el("textarea", { name: "comments", required: true, maxLength: 10000, rows: 5 }, inputStyle);
  box.appendChild(field(options.labelName, name));
  box.appendChild(field(options.labelEmail, email));
  box.appendChild(field(options.labelComments, comments));
  var status = el("p", { className: "bugsink-report-status" }, { margin: "0 0 10px", color: "#a00" });
  box.appendChild(status);
  var submit = el("button", { type: "submit", textContent: options.labelSubmit }, { padding: "6px 14px" });
  var close = el("button", { type: "button", textContent: options.labelClose }, { padding: "6px 14px", marginLeft: "8px" });
  box.appendChild(submit);
  box.appendChild(close);
  overlay.appendChild(box);

  function shut() {
    if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
    window.postMessage("__sentry_reportdialog_closed__", "*");
  }
  close.addEventListener("click", shut);
  box.addEventListener("submit", function (e) {
    e.preventDefault();
    submit.disabled = true;
    status.textContent = "";
    var body = new URLSearchParams({ name: name.value, email: email.value, comments: comments.value });
    fetch(options.endpoint, { method: "POST", body: body })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, json: j }; }); })
      .then(function (answer) {
        if (!answer.ok) throw new Error((answer.json && answer.json.detail) || "not sent");
        box.textContent = "";
        box.appendChild(el("p", { className: "bugsink-report-thanks", textContent: options.successMessage }));
        var done = el("button", { type: "button", textContent: options.labelClose }, { padding: "6px 14px" });
        done.addEventListener("click", shut);
        box.appendChild(done);
      })
      .catch(function (err) {
        submit.disabled = false;
        status.textContent = options.errorMessage + " (" + err.message + ")";
      });
  });
  (doc.body || doc.documentElement).appendChild(overlay);
})(OPTIONS);
