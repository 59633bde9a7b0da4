#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# iommutrace-overhead.sh - fio IOPS without and with iommutrace, in one
# guest, interleaved (A B B A A B ...), plus the tracer's own cost.
#
# Run in a VM from the build directory (docs/iommutrace.md):
#   ./iommubench vm run --kernel debian:6.12 --policy lazy -- \
#       sh bpf/iommutrace-overhead.sh 5 4
# Arguments: rounds (default 5), seconds per fio run (default 4), then
# options for iommutrace (e.g. --paths ...).
# Prints one "@@ plain|traced ROUND IOPS" line per run, the tracer's
# events and ns per event for each traced run, then the medians.
rounds=${1:-5}
secs=${2:-4}
shift 2 2>/dev/null
it_opts="$*"
fio_cmd="fio --name=r --filename=/dev/nvme0n1 --rw=randread --bs=4k --iodepth=16 --ioengine=libaio --direct=1 --runtime=$secs --time_based --output-format=terse --terse-version=3"

plain() {
	$fio_cmd | awk -F';' '{ print $8 }'
}

traced() {
	iommutrace -q $it_opts --json /tmp/it.json -- $fio_cmd > /tmp/fio.out
	awk -F';' '{ print $8 }' /tmp/fio.out
	grep -o '"overhead":{[^}]*}' /tmp/it.json |
		sed 's/.*"events":\([0-9]*\).*"ns_per_event":\([0-9.]*\).*/\1 \2/' > /tmp/ov
	grep -o '"dma_unmap":{"calls":[0-9]*' /tmp/it.json | head -n 1 |
		sed 's/.*://' >> /tmp/ov
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

r=1
: > /tmp/plain
: > /tmp/traced
while [ "$r" -le "$rounds" ]; do
	if [ $((r % 2)) = 1 ]; then order="plain traced"; else order="traced plain"; fi
	for w in $order; do
		iops=$($w)
		echo "$iops" | head -n 1 >> /tmp/$w
		echo "@@ $w $r $(echo "$iops" | head -n 1)"
		if [ "$w" = traced ]; then
			set -- $(cat /tmp/ov)
			echo "@@ cost $r events=$1 ns_per_event=$2 unmaps=$3"
		fi
	done
	r=$((r + 1))
done
p=$(median < /tmp/plain)
t=$(median < /tmp/traced)
echo "@@ median plain $p traced $t loss_pct $(awk "BEGIN { printf \"%.1f\", 100 * ($p - $t) / $p }")"
