;; LARS leaf kernel: WebAssembly SIMD over float32 storage with float64 arithmetic.
;; Compiled by scripts/build-kernels.ts (npm `wabt`) into src/kernels/lars-leaf-wasm-bytes.ts.
;; The plain-JS twin is src/kernels/lars-leaf-reference.ts; test/kernels proves them equal bit for bit.
;;
;; All pointers are byte offsets into the imported (shared) memory; arrays are float32, 4-byte aligned
;; (16-byte alignment is faster but not required).
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; sumSquaresPair(x, y, n, out): writes Σx² and Σy² (float64) at out and out+8.
  ;;   s_j = Σ_{i ≡ j (mod 4)} x_i²  accumulated in increasing i, in float64, no FMA
  ;;   Σ = (s0 + s1) + (s2 + s3)
  ;; Lanes: $xa = (s0, s1), $xb = (s2, s3). Both arrays share one loop so four independent add chains
  ;; hide the float64 add latency.
  (func $sumSquaresPair (export "sumSquaresPair") (param $x i32) (param $y i32) (param $n i32) (param $out i32)
    (local $xa v128) (local $xb v128) (local $ya v128) (local $yb v128)
    (local $lo v128) (local $end i32) (local $end2 i32) (local $rem i32)
    (local $x0 f64) (local $x1 f64) (local $x2 f64) (local $x3 f64)
    (local $y0 f64) (local $y1 f64) (local $y2 f64) (local $y3 f64) (local $t f64)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (local.set $rem (i32.and (local.get $n) (i32.const 3)))
    ;; values 0,1 of each quad -> (s0, s1), values 2,3 -> (s2, s3); each pair loaded on its own and widened (a load is
    ;; cheaper than a shuffle of the whole quad), two quads a turn while two remain, then the last quad if there is
    ;; one: 30 -> 21 ms on a 25.6 M-value pair, the same bits
    (local.set $end2 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $octets
        (br_if $done (i32.ge_u (local.get $x) (local.get $end2)))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $x))))
        (local.set $xa (f64x2.add (local.get $xa) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $y))))
        (local.set $ya (f64x2.add (local.get $ya) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $x))))
        (local.set $xb (f64x2.add (local.get $xb) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $y))))
        (local.set $yb (f64x2.add (local.get $yb) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 align=4 (local.get $x))))
        (local.set $xa (f64x2.add (local.get $xa) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 align=4 (local.get $y))))
        (local.set $ya (f64x2.add (local.get $ya) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 align=4 (local.get $x))))
        (local.set $xb (f64x2.add (local.get $xb) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 align=4 (local.get $y))))
        (local.set $yb (f64x2.add (local.get $yb) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $x (i32.add (local.get $x) (i32.const 32)))
        (local.set $y (i32.add (local.get $y) (i32.const 32)))
        (br $octets)))
    (if (i32.lt_u (local.get $x) (local.get $end))
      (then
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $x))))
        (local.set $xa (f64x2.add (local.get $xa) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero align=4 (local.get $y))))
        (local.set $ya (f64x2.add (local.get $ya) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $x))))
        (local.set $xb (f64x2.add (local.get $xb) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 align=4 (local.get $y))))
        (local.set $yb (f64x2.add (local.get $yb) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $y (i32.add (local.get $y) (i32.const 16)))))
    (local.set $x0 (f64x2.extract_lane 0 (local.get $xa)))
    (local.set $x1 (f64x2.extract_lane 1 (local.get $xa)))
    (local.set $x2 (f64x2.extract_lane 0 (local.get $xb)))
    (local.set $x3 (f64x2.extract_lane 1 (local.get $xb)))
    (local.set $y0 (f64x2.extract_lane 0 (local.get $ya)))
    (local.set $y1 (f64x2.extract_lane 1 (local.get $ya)))
    (local.set $y2 (f64x2.extract_lane 0 (local.get $yb)))
    (local.set $y3 (f64x2.extract_lane 1 (local.get $yb)))
    ;; tail: element 4k + j (j < n mod 4) goes to s_j
    (if (i32.gt_u (local.get $rem) (i32.const 0))
      (then
        (local.set $t (f64.promote_f32 (f32.load (local.get $x))))
        (local.set $x0 (f64.add (local.get $x0) (f64.mul (local.get $t) (local.get $t))))
        (local.set $t (f64.promote_f32 (f32.load (local.get $y))))
        (local.set $y0 (f64.add (local.get $y0) (f64.mul (local.get $t) (local.get $t))))))
    (if (i32.gt_u (local.get $rem) (i32.const 1))
      (then
        (local.set $t (f64.promote_f32 (f32.load offset=4 (local.get $x))))
        (local.set $x1 (f64.add (local.get $x1) (f64.mul (local.get $t) (local.get $t))))
        (local.set $t (f64.promote_f32 (f32.load offset=4 (local.get $y))))
        (local.set $y1 (f64.add (local.get $y1) (f64.mul (local.get $t) (local.get $t))))))
    (if (i32.gt_u (local.get $rem) (i32.const 2))
      (then
        (local.set $t (f64.promote_f32 (f32.load offset=8 (local.get $x))))
        (local.set $x2 (f64.add (local.get $x2) (f64.mul (local.get $t) (local.get $t))))
        (local.set $t (f64.promote_f32 (f32.load offset=8 (local.get $y))))
        (local.set $y2 (f64.add (local.get $y2) (f64.mul (local.get $t) (local.get $t))))))
    (f64.store (local.get $out)
      (f64.add (f64.add (local.get $x0) (local.get $x1)) (f64.add (local.get $x2) (local.get $x3))))
    (f64.store offset=8 (local.get $out)
      (f64.add (f64.add (local.get $y0) (local.get $y1)) (f64.add (local.get $y2) (local.get $y3)))))

  ;; step(p, g, buf, outP, outBuf, n, wd, m, c, gamma, lr, flags): the elementwise LARS pass.
  ;; flags bit 0: first step (no buffer yet, `buf` is not read); bit 1: nesterov. For each i:
  ;;   d  = wd = 0 ? g : f32(g + wd·p)
  ;;   m = 0:  o = d                              (no buffer: `buf` is not read, `outBuf` not written)
  ;;   m ≠ 0:  b = first ? d : f32(m·buf + c·d)   (c = 1 − dampening);  o = nesterov ? f32(d + m·b) : b
  ;;   o  = f32(γ·o);  o = f32((−lr)·o)
  ;;   p' = f32(p + o);  outBuf = b, outP = p'
  ;; f32(x) of a float64 pair is demote (round to nearest even) then promote back.
  ;; wd = 0 and m = 0 skip their stage, as larch's chain does (addWeightDecay(0) and traceMomentum({ momentum: 0 })
  ;; are the identity): g + 0·p is not g when g = −0 (it is +0), and 0·buf + c·d is not d.
  (func $step (export "step")
    (param $p i32) (param $g i32) (param $buf i32) (param $op i32) (param $ob i32) (param $n i32)
    (param $wd f64) (param $m f64) (param $c f64) (param $gamma f64) (param $lr f64) (param $flags i32)
    (local $end i32) (local $first i32) (local $nest i32)
    (local $vwd v128) (local $vm v128) (local $vc v128) (local $vgam v128) (local $vnlr v128)
    (local $pv v128) (local $gv v128) (local $bv v128)
    (local $p0 v128) (local $p1 v128) (local $d0 v128) (local $d1 v128)
    (local $b0 v128) (local $b1 v128) (local $bf0 v128) (local $bf1 v128)
    (local $o0 v128) (local $o1 v128) (local $cd0 v128) (local $cd1 v128) (local $cIsOne i32)
    (local $sp f64) (local $sd f64) (local $sb f64) (local $so f64) (local $noDecay i32) (local $noMomentum i32)
    (local.set $first (i32.and (local.get $flags) (i32.const 1)))
    (local.set $noDecay (f64.eq (local.get $wd) (f64.const 0)))
    (local.set $noMomentum (f64.eq (local.get $m) (f64.const 0)))
    (local.set $nest (i32.and (local.get $flags) (i32.const 2)))
    (local.set $cIsOne (f64.eq (local.get $c) (f64.const 1)))
    (local.set $vwd (f64x2.splat (local.get $wd)))
    (local.set $vm (f64x2.splat (local.get $m)))
    (local.set $vc (f64x2.splat (local.get $c)))
    (local.set $vgam (f64x2.splat (local.get $gamma)))
    (local.set $vnlr (f64x2.splat (f64.neg (local.get $lr))))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; a quad's low pair is widened from the quad, its high pair from an 8-byte load of its own (cheaper than a
        ;; shuffle: 5% on the pass, the same bits)
        (local.set $pv (v128.load align=4 (local.get $p)))
        (local.set $gv (v128.load align=4 (local.get $g)))
        (if (local.get $noDecay)
          (then
            ;; d = g (exact: a float32 promoted)
            (local.set $d0 (f64x2.promote_low_f32x4 (local.get $gv)))
            (local.set $d1 (f64x2.promote_low_f32x4
              (v128.load64_zero offset=8 align=4 (local.get $g)))))
          (else
            (local.set $p0 (f64x2.promote_low_f32x4 (local.get $pv)))
            (local.set $p1 (f64x2.promote_low_f32x4
              (v128.load64_zero offset=8 align=4 (local.get $p))))
            ;; d = f32(g + wd·p)
            (local.set $d0 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
              (f64x2.add (f64x2.promote_low_f32x4 (local.get $gv)) (f64x2.mul (local.get $vwd) (local.get $p0))))))
            (local.set $d1 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
              (f64x2.add
                (f64x2.promote_low_f32x4
                  (v128.load64_zero offset=8 align=4 (local.get $g)))
                (f64x2.mul (local.get $vwd) (local.get $p1))))))))
        (if (local.get $noMomentum)
          (then
            ;; o = d; no buffer
            (local.set $o0 (local.get $d0))
            (local.set $o1 (local.get $d1)))
          (else
            ;; b = first ? d : f32(m·buf + c·d); $bf* hold b as float32 in the low half
            (if (local.get $first)
              (then
                (local.set $bf0 (f32x4.demote_f64x2_zero (local.get $d0)))
                (local.set $bf1 (f32x4.demote_f64x2_zero (local.get $d1))))
              (else
                (local.set $bv (v128.load align=4 (local.get $buf)))
                ;; c·d is d exactly when c = 1 (no dampening): skip that multiply
                (if (local.get $cIsOne)
                  (then
                    (local.set $cd0 (local.get $d0))
                    (local.set $cd1 (local.get $d1)))
                  (else
                    (local.set $cd0 (f64x2.mul (local.get $vc) (local.get $d0)))
                    (local.set $cd1 (f64x2.mul (local.get $vc) (local.get $d1)))))
                (local.set $bf0 (f32x4.demote_f64x2_zero
                  (f64x2.add (f64x2.mul (local.get $vm) (f64x2.promote_low_f32x4 (local.get $bv))) (local.get $cd0))))
                (local.set $bf1 (f32x4.demote_f64x2_zero
                  (f64x2.add
                    (f64x2.mul (local.get $vm) (f64x2.promote_low_f32x4
                      (v128.load64_zero offset=8 align=4 (local.get $buf))))
                    (local.get $cd1))))))
            (local.set $b0 (f64x2.promote_low_f32x4 (local.get $bf0)))
            (local.set $b1 (f64x2.promote_low_f32x4 (local.get $bf1)))
            ;; o = nesterov ? f32(d + m·b) : b
            (if (local.get $nest)
              (then
                (local.set $o0 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
                  (f64x2.add (local.get $d0) (f64x2.mul (local.get $vm) (local.get $b0))))))
                (local.set $o1 (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
                  (f64x2.add (local.get $d1) (f64x2.mul (local.get $vm) (local.get $b1)))))))
              (else
                (local.set $o0 (local.get $b0))
                (local.set $o1 (local.get $b1))))
            (v128.store align=4 (local.get $ob)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $bf0) (local.get $bf1)))))
        ;; o = f32(γ·o); o = f32((−lr)·o), left as float32 in the low halves of $o0, $o1
        (local.set $o0 (f32x4.demote_f64x2_zero
          (f64x2.mul (local.get $vnlr) (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
            (f64x2.mul (local.get $vgam) (local.get $o0)))))))
        (local.set $o1 (f32x4.demote_f64x2_zero
          (f64x2.mul (local.get $vnlr) (f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero
            (f64x2.mul (local.get $vgam) (local.get $o1)))))))
        ;; p' = f32(p + o). p and o are both float32, and float64 has 53 ≥ 2·24 + 2 bits, so rounding the
        ;; float64 sum to float32 equals float32 addition (double rounding is innocuous, Figueroa 1995):
        ;; one f32x4.add replaces promote, add, demote.
        (v128.store align=4 (local.get $op)
          (f32x4.add (local.get $pv)
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $o0) (local.get $o1))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $buf (i32.add (local.get $buf) (i32.const 16)))
        (local.set $op (i32.add (local.get $op) (i32.const 16)))
        (local.set $ob (i32.add (local.get $ob) (i32.const 16)))
        (br $quads)))
    ;; scalar tail, same operations one value at a time
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $sp (f64.promote_f32 (f32.load (local.get $p))))
        (if (local.get $noDecay)
          (then (local.set $sd (f64.promote_f32 (f32.load (local.get $g)))))
          (else
            (local.set $sd (f64.promote_f32 (f32.demote_f64
              (f64.add (f64.promote_f32 (f32.load (local.get $g))) (f64.mul (local.get $wd) (local.get $sp))))))))
        (if (local.get $noMomentum)
          (then (local.set $so (local.get $sd)))
          (else
            (if (local.get $first)
              (then (local.set $sb (local.get $sd)))
              (else
                (local.set $sb (f64.promote_f32 (f32.demote_f64
                  (f64.add
                    (f64.mul (local.get $m) (f64.promote_f32 (f32.load (local.get $buf))))
                    (f64.mul (local.get $c) (local.get $sd))))))))
            (if (local.get $nest)
              (then
                (local.set $so (f64.promote_f32 (f32.demote_f64
                  (f64.add (local.get $sd) (f64.mul (local.get $m) (local.get $sb)))))))
              (else (local.set $so (local.get $sb))))
            (f32.store (local.get $ob) (f32.demote_f64 (local.get $sb)))))
        (local.set $so (f64.promote_f32 (f32.demote_f64 (f64.mul (local.get $gamma) (local.get $so)))))
        (local.set $so (f64.promote_f32 (f32.demote_f64 (f64.mul (f64.neg (local.get $lr)) (local.get $so)))))
        (f32.store (local.get $op) (f32.demote_f64 (f64.add (local.get $sp) (local.get $so))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (local.set $buf (i32.add (local.get $buf) (i32.const 4)))
        (local.set $op (i32.add (local.get $op) (i32.const 4)))
        (local.set $ob (i32.add (local.get $ob) (i32.const 4)))
        (br $tail))))

  ;; larsLeaves(table, count, wd, m, c, lr, flags, scratch): whole leaves, one after the other. The table holds
  ;; `count` records of six i32 (p, g, buf, outP, outB, n); scratch is 16 free bytes. Per leaf:
  ;;   ‖p‖ = √Σp², ‖g‖ = √Σg² (sumSquaresPair);  den = wd ≠ 0 ? ‖g‖ + wd·‖p‖ : ‖g‖
  ;;   γ = (‖p‖ = 0 or den = 0) ? 1 : ‖p‖ / den   (the seed's trust ratio, float64)
  ;; then step(…, γ, …). One call per tree: no JS↔wasm transition per leaf.
  (func (export "larsLeaves")
    (param $table i32) (param $count i32) (param $wd f64) (param $m f64) (param $c f64) (param $lr f64)
    (param $flags i32) (param $scratch i32)
    (call $larsLeavesKeeping (local.get $table) (local.get $count) (local.get $wd) (local.get $m) (local.get $c)
      (local.get $lr) (local.get $flags) (local.get $scratch) (i32.const 0)))

  ;; larsLeavesSums(table, count, wd, m, c, lr, flags, sums): larsLeaves, keeping leaf j's Σp² and Σg² at
  ;; sums + 16·j, so that a caller can check the norms (and compute γ again, the same bits) after the step.
  (func (export "larsLeavesSums")
    (param $table i32) (param $count i32) (param $wd f64) (param $m f64) (param $c f64) (param $lr f64)
    (param $flags i32) (param $sums i32)
    (call $larsLeavesKeeping (local.get $table) (local.get $count) (local.get $wd) (local.get $m) (local.get $c)
      (local.get $lr) (local.get $flags) (local.get $sums) (i32.const 16)))

  ;; larsLeaves with the Σ pair of leaf j written at scratch + stride·j.
  (func $larsLeavesKeeping
    (param $table i32) (param $count i32) (param $wd f64) (param $m f64) (param $c f64) (param $lr f64)
    (param $flags i32) (param $scratch i32) (param $stride i32)
    (local $end i32) (local $pn f64) (local $gn f64) (local $den f64) (local $gamma f64)
    (local.set $end (i32.add (local.get $table) (i32.mul (local.get $count) (i32.const 24))))
    (block $done
      (loop $leaves
        (br_if $done (i32.ge_u (local.get $table) (local.get $end)))
        (call $sumSquaresPair (i32.load (local.get $table)) (i32.load offset=4 (local.get $table))
          (i32.load offset=20 (local.get $table)) (local.get $scratch))
        (local.set $pn (f64.sqrt (f64.load (local.get $scratch))))
        (local.set $gn (f64.sqrt (f64.load offset=8 (local.get $scratch))))
        (local.set $den (local.get $gn))
        (if (f64.ne (local.get $wd) (f64.const 0))
          (then (local.set $den (f64.add (local.get $gn) (f64.mul (local.get $wd) (local.get $pn))))))
        (local.set $gamma (f64.const 1))
        (if (i32.eqz (i32.or (f64.eq (local.get $pn) (f64.const 0)) (f64.eq (local.get $den) (f64.const 0))))
          (then (local.set $gamma (f64.div (local.get $pn) (local.get $den)))))
        (call $step
          (i32.load (local.get $table)) (i32.load offset=4 (local.get $table)) (i32.load offset=8 (local.get $table))
          (i32.load offset=12 (local.get $table)) (i32.load offset=16 (local.get $table))
          (i32.load offset=20 (local.get $table))
          (local.get $wd) (local.get $m) (local.get $c) (local.get $gamma) (local.get $lr) (local.get $flags))
        (local.set $table (i32.add (local.get $table) (i32.const 24)))
        (local.set $scratch (i32.add (local.get $scratch) (local.get $stride)))
        (br $leaves))))

  ;; sumSquaresLeaves(table, count, out): Σp² and Σg² (sumSquaresPair) of every leaf of a larsLeaves table, the
  ;; pair of leaf j at out + 16·j. With stepLeaves, the two-phase batched step: every norm first (so a caller can
  ;; check them and compute γ its own way before anything is written), then every elementwise pass.
  (func (export "sumSquaresLeaves") (param $table i32) (param $count i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $table) (i32.mul (local.get $count) (i32.const 24))))
    (block $done
      (loop $leaves
        (br_if $done (i32.ge_u (local.get $table) (local.get $end)))
        (call $sumSquaresPair (i32.load (local.get $table)) (i32.load offset=4 (local.get $table))
          (i32.load offset=20 (local.get $table)) (local.get $out))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $table (i32.add (local.get $table) (i32.const 24)))
        (br $leaves))))

  ;; stepLeaves(table, count, gammas, wd, m, c, lr, flags): step over every leaf of a larsLeaves table, γ of leaf j
  ;; the float64 at gammas + 8·j.
  (func (export "stepLeaves")
    (param $table i32) (param $count i32) (param $gammas i32) (param $wd f64) (param $m f64) (param $c f64)
    (param $lr f64) (param $flags i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $table) (i32.mul (local.get $count) (i32.const 24))))
    (block $done
      (loop $leaves
        (br_if $done (i32.ge_u (local.get $table) (local.get $end)))
        (call $step
          (i32.load (local.get $table)) (i32.load offset=4 (local.get $table)) (i32.load offset=8 (local.get $table))
          (i32.load offset=12 (local.get $table)) (i32.load offset=16 (local.get $table))
          (i32.load offset=20 (local.get $table))
          (local.get $wd) (local.get $m) (local.get $c) (f64.load (local.get $gammas)) (local.get $lr) (local.get $flags))
        (local.set $gammas (i32.add (local.get $gammas) (i32.const 8)))
        (local.set $table (i32.add (local.get $table) (i32.const 24)))
        (br $leaves)))))
