#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
#
# qmp.pl SOCKET COMMAND [ARGS-JSON]: one QMP command to the QEMU whose
# '-qmp unix:SOCKET,server=on,wait=off' this is, e.g.
#   qmp.pl q.sock device_add '{"driver":"pci-testdev","bus":"rp1","id":"t0"}'
# Prints the reply line; exits 0 if QEMU answered "return", 1 otherwise.
# device_del is asynchronous: with --wait it also waits (60 s at most) for
# the DEVICE_DELETED event, i.e. until the guest has released the device.
use strict;
use warnings;
use IO::Socket::UNIX;

my $wait = @ARGV && $ARGV[0] eq '--wait' ? shift @ARGV : '';
my ($sock, $cmd, $args) = @ARGV;
die "usage: $0 [--wait] SOCKET COMMAND [ARGS-JSON]\n" unless defined $cmd;

my $s = IO::Socket::UNIX->new(Peer => $sock) or die "qmp: $sock: $!\n";
local $SIG{ALRM} = sub { print "qmp: $cmd: timed out\n"; exit 1 };
alarm 60;
<$s>;				# greeting
print $s qq({"execute":"qmp_capabilities"}\n);
while (my $l = <$s>) { last if $l =~ /"return"|"error"/ }
print $s qq({"execute":"$cmd") . ($args ? qq(,"arguments":$args) : '') . "}\n";
my $reply;
while (my $l = <$s>) {
	if ($l =~ /"return"|"error"/) { $reply = $l; last }
}
print "qmp: $cmd: ", $reply // "no reply\n";
exit 1 unless $reply && $reply =~ /"return"/;
if ($wait) {
	my ($id) = ($args // '') =~ /"id"\s*:\s*"([^"]*)"/;
	while (my $l = <$s>) {
		if ($l =~ /"DEVICE_DELETED"/ && $l =~ /"device"\s*:\s*"\Q$id\E"/) {
			print "qmp: $id deleted\n";
			exit 0;
		}
	}
	exit 1;
}
exit 0;
