#!/bin/sh
# The HTML report in headless Chromium: at 1400x900 the first screen is
# the answer (the headline table right after the title, then the
# provenance), every inlined plot decodes, the page is not blank.  No VM:
# a synthetic store, with the manifest of a real run of the default matrix.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/e2e/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
	skip_all "chromium is not installed (scripts/setup installs it)"
command -v gnuplot > /dev/null ||
	skip_all "gnuplot is not installed (scripts/setup installs it)"

plan 12

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
# What 'iommubench run' records (bench/run.c, results/README); synth-store
# writes a bare manifest.
cat > "$TEST_TMP/s/R/manifest.json" <<'JSON'
{
  "schema": "iommubench.manifest/1",
  "run_id": "R",
  "started": "2026-11-21T15:26:47Z",
  "finished": "2026-11-21T15:32:41Z",
  "target": "vm",
  "matrix": { "path": "bench/matrices/quick.ini", "text": "[global]\nkernels = debian:6.1\n" },
  "seed": 7,
  "settings": { "disk": "nvme", "cpus": 1, "mem_mb": 1024 },
  "host": { "name": "buildhost", "kernel": "6.8.0-45-generic", "cpus": 2,
            "cpu_model": "Intel(R) Xeon(R) CPU" },
  "tools": { "fio": "fio-3.33", "qemu": "QEMU emulator version 7.2.15",
             "iommubench": "0.1.0", "git_describe": "v0.1-42-gabcdef0" },
  "kernels": { "synth:0": { "name": "synth-0", "release": "6.1.0-27-amd64",
                            "version": "6.1.115-1", "source": "debian" } },
  "plan": { "boots": [ { "id": "b000", "accel": "tcg" } ] }
}
JSON
html=$("$IB" report --results "$TEST_TMP/s" R 2> "$TEST_TMP/report.err")
check "report writes an HTML file" test -s "$html"
nplots=$(ls "$TEST_TMP"/s/R/report/plots/*.png | wc -l)
echo "# $nplots plots"

chrome --dump-dom "file://$html" > "$TEST_TMP/dom.html"
loaded=$(grep -o 'data-plots-loaded="[0-9]*/[0-9]*"' "$TEST_TMP/dom.html")
echo "# $loaded"
check "every plot decoded in the browser ($nplots)" \
	test "$loaded" = "data-plots-loaded=\"$nplots/$nplots\""

# The first screen, measured in the browser 1400 px wide: a copy of the
# report with a script that writes what follows the title and where the
# headline and the provenance end (CSS px from the top; the screenshot
# below is 1400x900).
sed 's|</body>|<script>\
window.addEventListener("load", function () {\
  var h1 = document.querySelector("h1"), next = h1.nextElementSibling;\
  var hl = document.getElementById("headline");\
  var pv = document.getElementById("provenance");\
  var r = document.createElement("pre"); r.id = "layout";\
  r.textContent = "after-h1=" + next.tagName.toLowerCase() + "#" + next.id +\
    " headline-bottom=" + Math.ceil(hl.getBoundingClientRect().bottom) +\
    " provenance-bottom=" + Math.ceil(pv.getBoundingClientRect().bottom) +\
    " width=" + window.innerWidth +\
    " rows=" + hl.querySelectorAll("tbody tr:not(.blk)").length;\
  document.body.appendChild(r);\
});\
</script></body>|' "$html" > "$TEST_TMP/s/R/report/layout.html"
chrome --window-size=1400,900 --dump-dom "file://$TEST_TMP/s/R/report/layout.html" |
	grep -o 'after-h1=[a-z][^<]*' > "$TEST_TMP/layout"
sed 's/^/# layout: /' "$TEST_TMP/layout"
val() {
	sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$TEST_TMP/layout"
}
check "the first element after the title is the headline table" \
	test "$(val after-h1)" = "table#headline"
check "the page is laid out 1400 px wide" test "$(val width)" = 1400
check "the headline is on the first screen: it ends at $(val headline-bottom) px (<= 900)" \
	test "$(val headline-bottom)" -le 900
check "so is the provenance: it ends at $(val provenance-bottom) px (<= 900)" \
	test "$(val provenance-bottom)" -le 900
# 2 workloads: fio (IOPS, p50, p99) and dmabench (rate, map p50, unmap
# p50, p99), lazy and identity each against strict
check "the headline: 7 metrics x 2 policies against strict ($(val rows) rows)" \
	test "$(val rows)" = 14

# what the headline and the provenance say, from the DOM
hl=$(sed -n '/<table id="headline"/,/<\/table>/p' "$TEST_TMP/dom.html")
check "headline: medians in their units, the ratio, its interval, a verdict" \
	sh -c "printf '%s' '$(printf '%s' "$hl" | tr -d "'")' | grep -Eq 'lazy</span></td><td>[0-9.]+k IOPS</td><td>1\.[0-9]{3} \[1\.[0-9]{3}, 1\.[0-9]{3}\]</td><td class=\"good\">\+[0-9.]+% better</td>' &&
	       printf '%s' '$(printf '%s' "$hl" | tr -d "'")' | grep -q 'µs</td>'"
prov=$(sed -n '/<section id="provenance"/,/<\/section>/p' "$TEST_TMP/dom.html")
check "provenance: kernel release and source, vIOMMU, QEMU, clock, host, suite" \
	sh -c "for want in '<dt>kernel</dt><dd>synth:0 = 6.1.0-27-amd64 (debian, ' \
	                   '<dt>vIOMMU</dt><dd>intel</dd>' \
	                   '<dt>QEMU</dt><dd>QEMU emulator version 7.2.15, accel tcg</dd>' \
	                   '<dt>clock</dt><dd>host</dd>' '<dt>host</dt><dd>buildhost' \
	                   '<dt>suite</dt><dd>iommubench 0.1.0 (v0.1-42-gabcdef0)'; do
	           printf '%s' '$(printf '%s' "$prov" | tr -d "'")' | grep -qF \"\$want\" || { echo \"# missing: \$want\"; exit 1; }
	       done"

chrome --window-size=1400,900 --screenshot="$TEST_TMP/shot.png" "file://$html" > /dev/null
check "a screenshot of the first screen was taken" test -s "$TEST_TMP/shot.png"
chrome --window-size=1400,3000 --screenshot="$TEST_TMP/page.png" "file://$html" > /dev/null
[ -n "${IB_KEEP_SHOTS:-}" ] && cp "$TEST_TMP/shot.png" "$TEST_TMP/page.png" "$IB_KEEP_SHOTS/"

# Measure the screenshots in the browser itself: a data: URI does not
# taint the canvas, so its pixels can be read back.
measure() {
	{
		printf '<!DOCTYPE html><html><body><img id="s" src="data:image/png;base64,'
		base64 -w0 "$1"
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
	chrome --dump-dom "file://$TEST_TMP/measure.html" | grep -o 'size=[0-9][^<]*'
}
measure "$TEST_TMP/shot.png" > "$TEST_TMP/measure"
measure "$TEST_TMP/page.png" > "$TEST_TMP/measure-page"
sed 's/^/# first screen: /' "$TEST_TMP/measure"
sed 's/^/# whole page: /' "$TEST_TMP/measure-page"
ink=$(sed -n 's/.*ink=\([0-9]*\).*/\1/p' "$TEST_TMP/measure")
colours=$(sed -n 's/.*colours=\([0-9]*\).*/\1/p' "$TEST_TMP/measure-page")
# a blank page has no ink; the headline's text alone is well above 3 %
check "the first screen is not blank: ${ink:-?} per mille non-white pixels (>= 30)" \
	test "${ink:-0}" -ge 30
# the policies' colours and the greys of text and axes
check "the page has the plots' colours: ${colours:-?} colours (>= 20)" \
	test "${colours:-0}" -ge 20
finish
