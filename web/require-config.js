// Loaded before require.js on pages with widgets. The ipywidgets bundle (embed-amd.js) asks for
// its icon fonts relative to its AMD module path; map that path to this folder, where
// fetch_assets.py puts the bundle and its fonts, so the fonts come from this site.
var require = {
  paths: {
    "@jupyter-widgets/html-manager/dist": new URL(".", document.currentScript.src).href.replace(/\/$/, ""),
  },
};
