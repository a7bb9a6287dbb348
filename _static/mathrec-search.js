/* Search-result snippets without raw TeX.
 *
 * Sphinx's search page builds each result's snippet from the text of the found
 * page (Search.htmlToText in searchtools.js); on the page, a formula is the TeX
 * source that MathJax typesets in the browser, so snippets showed
 * "\(11/14 \approx 0.7857\)". Here each formula is replaced by a plain-text
 * reading of it ("11/14 ≈ 0.7857") before the snippet is cut. Jupyter Book
 * loads every *.js file of _static/ on every page; this one acts only where
 * Sphinx's search is loaded.
 */
"use strict";

var MATHREC_TEX_SYMBOLS = {
  approx: "≈", le: "≤", leq: "≤", ge: "≥", geq: "≥", neq: "≠", ne: "≠", times: "×",
  cdot: "·", cdots: "⋯", ldots: "…", dots: "…", sum: "Σ", prod: "Π", sqrt: "√",
  in: "∈", notin: "∉", infty: "∞", to: "→", rightarrow: "→", leftarrow: "←",
  mapsto: "↦", lVert: "‖", rVert: "‖", Vert: "‖", lvert: "|", rvert: "|", mid: "|",
  top: "ᵀ", pm: "±", partial: "∂", nabla: "∇", propto: "∝", sim: "∼", equiv: "≡",
  subseteq: "⊆", subset: "⊂", cup: "∪", cap: "∩", emptyset: "∅", forall: "∀",
  exists: "∃", langle: "⟨", rangle: "⟩", lfloor: "⌊", rfloor: "⌋", lceil: "⌈",
  rceil: "⌉", alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε",
  varepsilon: "ε", zeta: "ζ", eta: "η", theta: "θ", kappa: "κ", lambda: "λ", mu: "μ",
  nu: "ν", xi: "ξ", pi: "π", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", varphi: "φ",
  chi: "χ", psi: "ψ", omega: "ω", Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ",
  Sigma: "Σ", Phi: "Φ", Psi: "Ψ", Omega: "Ω", ell: "ℓ",
};

/* A plain-text reading of a TeX formula: good enough for a search snippet. */
var mathrecTexToText = (tex) => {
  let s = tex.trim().replace(/^\\[([]|\\[)\]]$/g, "").replace(/^\$+|\$+$/g, "");
  s = s.replace(/\\(left|right|big|Big|bigg|Bigg)\b\.?/g, "");
  s = s.replace(/\\begin\{[^}]*\}|\\end\{[^}]*\}/g, " ");
  s = s.replace(/\\(?:,|;|:|!|quad|qquad)/g, " ").replace(/\\\\/g, "; ").replace(/&/g, " ");
  // \frac{a}{b} -> (a)/(b), innermost first
  for (let i = 0; i < 10 && /\\[dt]?frac\{/.test(s); i++) {
    s = s.replace(/\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}/g, (m, a, b) =>
      (/^\w+$/.test(a) ? a : `(${a})`) + "/" + (/^\w+$/.test(b) ? b : `(${b})`));
  }
  // font and decoration commands keep their argument
  s = s.replace(/\\(?:mathrm|mathbf|mathit|mathcal|mathbb|mathsf|boldsymbol|bm|text|textrm|textbf|operatorname\*?|hat|bar|tilde|vec|overline|widehat|widetilde)\{([^{}]*)\}/g, "$1");
  s = s.replace(/\\([A-Za-z]+)/g, (m, name) => MATHREC_TEX_SYMBOLS[name] ?? name);
  s = s.replace(/[{}]/g, "").replace(/\s+/g, " ").trim();
  return s;
};

(() => {
  const patch = () => {
    if (typeof Search === "undefined" || !Search.htmlToText || Search._mathrecPatched) return;
    const original = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => {
        el.textContent = " " + mathrecTexToText(el.textContent) + " ";
      });
      // the glossary's A-Z bar is navigation, not text
      doc.querySelectorAll("p.glossary-az").forEach((el) => el.remove());
      return original(doc.documentElement.outerHTML, anchor);
    };
    Search._mathrecPatched = true;
  };
  if (typeof document === "undefined") return; // not in a browser (tests run it in node)
  patch();
  document.addEventListener("DOMContentLoaded", patch);
})();

if (typeof module !== "undefined") module.exports = { mathrecTexToText };
