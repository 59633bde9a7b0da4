#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# ssdt-external-facing.pl OUT PATH: write an ACPI SSDT (AML) that gives the
# device object PATH (e.g. '\_SB_.PCI0.S40_', QEMU q35's name for a root
# port at 00:08.0) the _DSD property "ExternalFacingPort" = 1, for QEMU's
# -acpitable file=OUT.  Linux then marks the root port external-facing and
# every device hot-plugged below it untrusted (drivers/pci/pci-acpi.c,
# pci_acpi_set_external_facing(); drivers/pci/probe.c, set_pcie_untrusted()).
# Hand-assembled (ACPI 6.4, chapter 20) so that the tests need no iasl.
use strict;
use warnings;

my ($out, $path) = @ARGV;
die "usage: $0 OUT '\\_SB_.PCI0.S40_'\n" unless defined $path;
my @segs = split /\./, ($path =~ s/^\\//r);
die "$0: $path: 4-character name segments, please\n"
	if grep { length != 4 } @segs;

# PkgLength (20.2.4), counting its own bytes
sub pkg {
	my ($body) = @_;
	my $n = length($body) + 1;
	return chr($n) . $body if $n < 64;
	$n++;
	die "$0: package too long\n" if $n > 0xfff;
	return chr(0x40 | ($n & 0xf)) . chr($n >> 4) . $body;
}

# ToUUID("daffd814-6eba-4d8c-8a91-bc9bbf4aa301"): device properties
my $uuid = pack('VvvC8', 0xdaffd814, 0x6eba, 0x4d8c,
		0x8a, 0x91, 0xbc, 0x9b, 0xbf, 0x4a, 0xa3, 0x01);
my $prop = "\x12" . pkg("\x02" . "\x0d" . "ExternalFacingPort\0" . "\x01");
my $dsd = "\x12" . pkg("\x02" .
		       "\x11" . pkg("\x0a\x10" . $uuid) .
		       "\x12" . pkg("\x01" . $prop));
my $name = '\\' . (@segs == 1 ? $segs[0] :
		   @segs == 2 ? "\x2e" . join('', @segs) :
		   "\x2f" . chr(scalar @segs) . join('', @segs));
my $aml = "\x10" . pkg($name . "\x08_DSD" . $dsd);

my $len = 36 + length $aml;
my $table = 'SSDT' . pack('V', $len) . "\x02\x00" . 'IOMMUB' . 'EXTPORT ' .
	    pack('V', 1) . 'IBNC' . pack('V', 1) . $aml;
my $sum = 0;
$sum += ord for split //, $table;
substr($table, 9, 1) = chr((256 - $sum % 256) % 256);

open(my $fh, '>:raw', $out) or die "$0: $out: $!\n";
print $fh $table;
close($fh) or die "$0: $out: $!\n";
