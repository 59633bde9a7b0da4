#!/bin/sh
# The HTML report renders in headless Chromium: the screenshot is not
# blank and every inlined plot decoded.  No VM: a synthetic store.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
	skip_all "chromium is not installed (scripts/setup installs it)"
command -v gnuplot > /dev/null ||
	skip_all "gnuplot is not installed (scripts/setup installs it)"

plan 6

# a fresh profile, and nothing that talks to the network
chrome() {
	rm -rf "$TEST_TMP/profile"
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$TEST_TMP/profile" --hide-scrollbars "$@" \
		2> "$TEST_TMP/chrome.err"
}

"$IB" synth-store --results "$TEST_TMP/s" --run R --iommutrace > /dev/null ||
	bail "synth-store failed"
html=$("$IB" report --results "$TEST_TMP/s" R 2> "$TEST_TMP/report.err")
check "report writes an HTML file" test -s "$html"
nplots=$(ls "$TEST_TMP"/s/R/report/plots/*.png | wc -l)
echo "# $nplots plots"

chrome --dump-dom "file://$html" > "$TEST_TMP/dom.html"
loaded=$(grep -o 'data-plots-loaded="[0-9]*/[0-9]*"' "$TEST_TMP/dom.html")
echo "# $loaded"
check "every plot decoded in the browser ($nplots)" \
	test "$loaded" = "data-plots-loaded=\"$nplots/$nplots\""

chrome --window-size=1200,3000 --screenshot="$TEST_TMP/shot.png" "file://$html" > /dev/null
check "a screenshot was taken" test -s "$TEST_TMP/shot.png"

# Measure the screenshot in the browser itself: a data: URI does not taint
# the canvas, so its pixels can be read back.
{
	printf '<!DOCTYPE html><html><body><img id="s" src="data:image/png;base64,'
	base64 -w0 "$TEST_TMP/shot.png"
	cat <<'HTML'
"><script>
window.addEventListener('load', function () {
  var img = document.getElementById('s'), c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  var g = c.getContext('2d'); g.drawImage(img, 0, 0);
  var d = g.getImageData(0, 0, c.width, c.height).data, ink = 0, col = 0, seen = {};
  for (var i = 0; i < d.length; i += 4) {
    if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) ink++;
    var k = (d[i] >> 4) + '.' + (d[i + 1] >> 4) + '.' + (d[i + 2] >> 4);
    if (!seen[k]) { seen[k] = 1; col++; }
  }
  var r = document.createElement('pre'); r.id = 'result';
  r.textContent = 'size=' + c.width + 'x' + c.height + ' ink=' +
    (ink * 1000 / (d.length / 4)).toFixed(0) + ' colours=' + col;
  document.body.appendChild(r);
});
</script></body></html>
HTML
} > "$TEST_TMP/measure.html"
chrome --dump-dom "file://$TEST_TMP/measure.html" | grep -o 'size=[0-9][^<]*' > "$TEST_TMP/measure"
cat "$TEST_TMP/measure" | sed 's/^/# screenshot: /'
ink=$(sed -n 's/.*ink=\([0-9]*\).*/\1/p' "$TEST_TMP/measure")
colours=$(sed -n 's/.*colours=\([0-9]*\).*/\1/p' "$TEST_TMP/measure")
check "the screenshot is 1200x3000" grep -q 'size=1200x3000' "$TEST_TMP/measure"
# a blank page has no ink; text alone stays under 3 %; plots add more
check "the screenshot is not blank: ${ink:-?} per mille non-white pixels (>= 30)" \
	test "${ink:-0}" -ge 30
# strict red, lazy blue, identity green and the greys of text and axes
check "the screenshot has the plots' colours: ${colours:-?} colours (>= 20)" \
	test "${colours:-0}" -ge 20
finish
