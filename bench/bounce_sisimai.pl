#!/usr/bin/perl
# Sisimai's rate over the same corpus as bench/bounce_corpus_check, for the
# side-by-side of BENCHMARKS.md: parses every CORPUS_DIR/eml/*.eml with
# Sisimai->make (Debian: libsisimai-perl), repeating the set until at least
# a second has passed, and prints messages per second.
#   perl bench/bounce_sisimai.pl CORPUS_DIR
use strict;
use warnings;
use Sisimai;
use Time::HiRes qw(time);

my $dir = shift or die "usage: bounce_sisimai.pl CORPUS_DIR\n";
my @files = glob("$dir/eml/*.eml");
die "no $dir/eml/*.eml files\n" unless @files;
my $start = time;
my ($messages, $recipients) = (0, 0);
while (time - $start < 1.0 || $messages < scalar(@files)) {
  for my $file (@files) {
    my $parsed = Sisimai->make($file) || [];
    $recipients += scalar(@$parsed);
    $messages++;
  }
}
my $seconds = time - $start;
printf "sisimai %s: %d messages in %.2f s = %.0f messages/s (%d recipients)\n",
  $Sisimai::VERSION, $messages, $seconds, $messages / $seconds, $recipients;
