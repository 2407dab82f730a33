# ratios.awk: from raw `go test -bench -count N` output, the median over the
# N rounds of mlerr's time divided by each other runner's time in the same
# round (sub-benchmarks of one round run back to back, so a noisy machine
# disturbs both sides of a ratio alike).
#
#   go test -run '^$' -bench . -benchmem -count 6 . | tee out.txt
#   awk -f ratios.awk out.txt
/^Benchmark/ {
	split($1, p, "/"); group = p[1]; sub(/^Benchmark/, "", group)
	name = p[2]; sub(/-[0-9]+$/, "", name)
	k = group SUBSEP name
	n[k]++; t[k, n[k]] = $3; names[group, name] = 1
}
function median(a, m,    i, j, x) {
	for (i = 2; i <= m; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
	return m % 2 ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
}
END {
	for (gk in names) {
		split(gk, g, SUBSEP); group = g[1]; other = g[2]
		if (other == "mlerr") continue
		mk = group SUBSEP "mlerr"; ok = group SUBSEP other
		m = n[mk] < n[ok] ? n[mk] : n[ok]
		delete r
		for (i = 1; i <= m; i++) r[i] = t[mk, i] / t[ok, i]
		printf "%-15s mlerr / %-22s %6.2f (median of %d rounds)\n", group, other, median(r, m), m
	}
}
