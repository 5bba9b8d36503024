// Draws the figures the server made (edgeorch.catalog.charts.figure_html): each <div data-figure="{json}">
// not drawn yet. A file, not Plotly's inline script, so that the pages' Content-Security-Policy needs no
// 'unsafe-inline'. The page includes it after each figure's div, so a figure is drawn before the scripts after it.
(function () {
  document.querySelectorAll("div[data-figure]:not([data-drawn])").forEach((div) => {
    const figure = JSON.parse(div.dataset.figure);
    div.dataset.drawn = "1";
    Plotly.newPlot(div, figure.data, figure.layout, { responsive: true });
  });
})();
