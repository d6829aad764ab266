/* Lets the ipywidgets HTML manager (@jupyter-widgets/html-manager 1.0.x, vendored under
   _static/vendor/) work offline with MathJax 3. Loaded before require.js.

   1. require.js base URL: the widget bundle derives the URL of its font files from its
      AMD module URI, which require.js resolves against its baseUrl (by default the page's
      folder). Pointing baseUrl at _static/vendor/ (found from this script's own URL, so it
      works at any page depth and from file://) makes those URLs land on the vendored copy.
   2. MathJax 2 shim: the bundle typesets widget labels with MathJax.Hub.Queue(["Typeset",
      MathJax.Hub, element]); MathJax 3 has no Hub. MathJax 3 replaces the global MathJax
      object when its deferred script runs, so the shim is installed on DOMContentLoaded,
      after MathJax and before the widgets render. */
var require = { baseUrl: new URL("vendor/", document.currentScript.src).href };

(function () {
  function install() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset" && window.MathJax.typesetPromise) {
            var element = job[2];
            window.MathJax.startup.promise
              .then(function () { return window.MathJax.typesetPromise(element ? [element] : undefined); })
              .catch(function (err) { console.warn("MathJax typeset failed", err); });
          }
        }
      },
    };
  }
  document.addEventListener("DOMContentLoaded", install);
})();
