#!/usr/bin/perl
# test/garbage/harvest.pl FILE...
#
# Prints the candidate inputs found in the files, as COPY text rows of
# garbage.candidates (origin, ctx, val): every quoted literal of a SQL file
# (ctx: the file and its statement, literals left out, so that a literal can
# be matched to the types and functions its statement names), and every JSON
# file whole (ctx: the file's path).
use strict;
use warnings;

sub row {
	my @f = @_;
	for (@f) {
		s/\\/\\\\/g;
		s/\n/\\n/g;
		s/\r/\\r/g;
		s/\t/\\t/g;
	}
	print join("\t", @f), "\n";
}

for my $file (@ARGV) {
	open(my $fh, '<', $file) or die "$file: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	(my $short = $file) =~ s{^.*?/(sql|test)/}{$1/};
	if ($file =~ /\.json$/) {
		row($short, $short, $text);
		next;
	}
	$text =~ s/(^|[ \t(,])--[^\n]*/$1/g;    # comments, whose apostrophes would pair wrongly
	for my $stmt (split /;[ \t]*\n/, $text) {
		(my $ctx = $stmt) =~ s/'(?:[^']|'')*'/''/g;
		$ctx =~ s/\s+/ /g;
		$ctx = "$short " . substr($ctx, 0, 2000);
		while ($stmt =~ /'((?:[^']|'')*)'/g) {
			(my $val = $1) =~ s/''/'/g;
			row($short, $ctx, $val) if length($val) > 0;
		}
	}
}
