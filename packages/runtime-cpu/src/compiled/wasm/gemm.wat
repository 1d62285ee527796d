;; Kiln's float32 GEMM kernel (WebAssembly SIMD128), organised like a BLIS GEMM:
;;   for jc (NC columns): for pc (KC depth): pack B -> 16-column strips
;;     for ic (MC rows): pack A -> 2-row strips; macro-kernel over 2x16 tiles.
;; All pointers are byte offsets into the imported shared memory; all strides are in BYTES.
;; Also im2col for conv2d.ts (bulk memory: memory.copy/fill for long runs) and its adjoint
;; col2im for conv2d-backprop.ts, the depthwise conv loops for depthwise.ts, a direct conv2d for
;; few input channels (direct-conv.ts) and max/avg pooling (pool.ts).
;; Assembled at build time by scripts/build-wasm.mjs into gemm-wasm.generated.ts.
;;
;; Microkernel shape (MR=2, NR=16): 8 v128 accumulators + 4 B vectors + 2 A broadcasts + 1
;; temporary = 15 of x64's 16 xmm registers (V8 keeps one as scratch). Measured on this machine,
;; V8 hoists every load of an unrolled k-loop to the top of the body and spills, so the k-loop
;; is deliberately not unrolled; 2x16 needs fewer broadcasts per flop than 4x8.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; C[2x16] = (accum ? C : 0) + Ap[kc][2] · Bp[kc][16]; ldc in bytes.
  (func $ukr (param $kc i32) (param $a i32) (param $b i32) (param $c i32) (param $ldc i32) (param $accum i32)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $a0 v128) (local $a1 v128) (local $c1 i32)
    (if (local.get $kc) (then
      (loop $k
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        (local.set $b2 (v128.load offset=32 (local.get $b)))
        (local.set $b3 (v128.load offset=48 (local.get $b)))
        (local.set $a0 (v128.load32_splat (local.get $a)))
        (local.set $a1 (v128.load32_splat offset=4 (local.get $a)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a0) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a0) (local.get $b1))))
        (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a0) (local.get $b2))))
        (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a0) (local.get $b3))))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a1) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a1) (local.get $b1))))
        (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $a1) (local.get $b2))))
        (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $a1) (local.get $b3))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))))
    (local.set $c1 (i32.add (local.get $c) (local.get $ldc)))
    (if (local.get $accum) (then
      (local.set $c00 (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
      (local.set $c01 (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
      (local.set $c02 (f32x4.add (v128.load offset=32 (local.get $c)) (local.get $c02)))
      (local.set $c03 (f32x4.add (v128.load offset=48 (local.get $c)) (local.get $c03)))
      (local.set $c10 (f32x4.add (v128.load (local.get $c1)) (local.get $c10)))
      (local.set $c11 (f32x4.add (v128.load offset=16 (local.get $c1)) (local.get $c11)))
      (local.set $c12 (f32x4.add (v128.load offset=32 (local.get $c1)) (local.get $c12)))
      (local.set $c13 (f32x4.add (v128.load offset=48 (local.get $c1)) (local.get $c13)))))
    (v128.store (local.get $c) (local.get $c00))
    (v128.store offset=16 (local.get $c) (local.get $c01))
    (v128.store offset=32 (local.get $c) (local.get $c02))
    (v128.store offset=48 (local.get $c) (local.get $c03))
    (v128.store (local.get $c1) (local.get $c10))
    (v128.store offset=16 (local.get $c1) (local.get $c11))
    (v128.store offset=32 (local.get $c1) (local.get $c12))
    (v128.store offset=48 (local.get $c1) (local.get $c13)))

  ;; Every 2x16 tile of C[mc x nc] from packed Ap (2-row strips) and Bp (16-column strips).
  ;; Edge tiles run the same microkernel into tmp (2x16) and copy the valid part, so every
  ;; element of C sees the same sequence of float operations wherever its tile lies.
  (func $macro (param $mc i32) (param $nc i32) (param $kc i32) (param $ap i32) (param $bp i32)
               (param $c i32) (param $ldc i32) (param $accum i32) (param $tmp i32)
    (local $jr i32) (local $ir i32) (local $nr i32) (local $mr i32) (local $bpan i32)
    (local $cij i32) (local $i i32) (local $j i32) (local $d i32) (local $s i32)
    (loop $jl
      (local.set $nr (select (i32.const 16) (i32.sub (local.get $nc) (local.get $jr))
                             (i32.ge_u (i32.sub (local.get $nc) (local.get $jr)) (i32.const 16))))
      (local.set $bpan (i32.add (local.get $bp) (i32.mul (local.get $jr) (i32.shl (local.get $kc) (i32.const 2)))))
      (local.set $ir (i32.const 0))
      (loop $il
        (local.set $mr (select (i32.const 2) (i32.const 1)
                               (i32.ge_u (i32.sub (local.get $mc) (local.get $ir)) (i32.const 2))))
        (local.set $cij (i32.add (i32.add (local.get $c) (i32.mul (local.get $ir) (local.get $ldc)))
                                 (i32.shl (local.get $jr) (i32.const 2))))
        (if (i32.and (i32.eq (local.get $mr) (i32.const 2)) (i32.eq (local.get $nr) (i32.const 16)))
          (then
            (call $ukr (local.get $kc)
                       (i32.add (local.get $ap) (i32.mul (local.get $ir) (i32.shl (local.get $kc) (i32.const 2))))
                       (local.get $bpan) (local.get $cij) (local.get $ldc) (local.get $accum)))
          (else
            (call $ukr (local.get $kc)
                       (i32.add (local.get $ap) (i32.mul (local.get $ir) (i32.shl (local.get $kc) (i32.const 2))))
                       (local.get $bpan) (local.get $tmp) (i32.const 64) (i32.const 0))
            (local.set $i (i32.const 0))
            (loop $ci
              (local.set $d (i32.add (local.get $cij) (i32.mul (local.get $i) (local.get $ldc))))
              (local.set $s (i32.add (local.get $tmp) (i32.shl (local.get $i) (i32.const 6))))
              (local.set $j (i32.const 0))
              (loop $cj
                (f32.store (local.get $d)
                  (if (result f32) (local.get $accum)
                    (then (f32.add (f32.load (local.get $d)) (f32.load (local.get $s))))
                    (else (f32.load (local.get $s)))))
                (local.set $d (i32.add (local.get $d) (i32.const 4)))
                (local.set $s (i32.add (local.get $s) (i32.const 4)))
                (br_if $cj (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $nr))))
              (br_if $ci (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $mr))))))
        (br_if $il (i32.lt_u (local.tee $ir (i32.add (local.get $ir) (i32.const 2))) (local.get $mc))))
      (br_if $jl (i32.lt_u (local.tee $jr (i32.add (local.get $jr) (i32.const 16))) (local.get $nc)))))

  ;; Packs A[mc x kc] (row stride rs, column stride cs, bytes) into 2-row strips:
  ;; dst[strip][p][r] = A[2*strip + r, p], zero rows past mc.
  (func $packA (param $mc i32) (param $kc i32) (param $a i32) (param $rs i32) (param $cs i32) (param $dst i32)
    (local $i i32) (local $p i32) (local $r0 i32) (local $r1 i32) (local $v0 v128) (local $v1 v128)
    (loop $strip
      (local.set $r0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rs))))
      (local.set $r1 (i32.add (local.get $r0) (local.get $rs)))
      (local.set $p (i32.const 0))
      (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $mc))
        (then
          (if (i32.eq (local.get $cs) (i32.const 4))
            (then
              ;; rows contiguous along k: interleave 4 k-values of both rows per step
              (if (i32.ge_u (local.get $kc) (i32.const 4)) (then
                (loop $p4
                  (local.set $v0 (v128.load (local.get $r0)))
                  (local.set $v1 (v128.load (local.get $r1)))
                  (v128.store (local.get $dst)
                    (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
                  (v128.store offset=16 (local.get $dst)
                    (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
                  (local.set $r0 (i32.add (local.get $r0) (i32.const 16)))
                  (local.set $r1 (i32.add (local.get $r1) (i32.const 16)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                  (br_if $p4 (i32.le_u (local.tee $p (i32.add (local.get $p) (i32.const 4)))
                                       (i32.sub (local.get $kc) (i32.const 4)))))))
              (if (i32.lt_u (local.get $p) (local.get $kc)) (then
                (loop $p1
                  (f32.store (local.get $dst) (f32.load (local.get $r0)))
                  (f32.store offset=4 (local.get $dst) (f32.load (local.get $r1)))
                  (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
                  (local.set $r1 (i32.add (local.get $r1) (i32.const 4)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                  (br_if $p1 (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))))
            (else
              (if (i32.eq (local.get $rs) (i32.const 4))
                (then
                  ;; column-major A (transposed operand): the two rows are adjacent floats
                  (loop $pt
                    (i64.store (local.get $dst) (i64.load (local.get $r0)))
                    (local.set $r0 (i32.add (local.get $r0) (local.get $cs)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                    (br_if $pt (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))
                (else
                  (loop $pg
                    (f32.store (local.get $dst) (f32.load (local.get $r0)))
                    (f32.store offset=4 (local.get $dst) (f32.load (local.get $r1)))
                    (local.set $r0 (i32.add (local.get $r0) (local.get $cs)))
                    (local.set $r1 (i32.add (local.get $r1) (local.get $cs)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                    (br_if $pg (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))))))
        (else
          ;; last odd row: second row of the strip is zero
          (loop $pz
            (f32.store (local.get $dst) (f32.load (local.get $r0)))
            (f32.store offset=4 (local.get $dst) (f32.const 0))
            (local.set $r0 (i32.add (local.get $r0) (local.get $cs)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
            (br_if $pz (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc))))))
      (br_if $strip (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 2))) (local.get $mc)))))

  ;; Transposes the 4x4 block whose columns start at src, src+cs, src+2cs, src+3cs (4 floats
  ;; each, consecutive k) into 4 rows of a 16-column strip at dst, dst+64, dst+128, dst+192.
  (func $tr4 (param $src i32) (param $cs i32) (param $dst i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $v0 (v128.load (local.get $src)))
    (local.set $v1 (v128.load (local.tee $src (i32.add (local.get $src) (local.get $cs)))))
    (local.set $v2 (v128.load (local.tee $src (i32.add (local.get $src) (local.get $cs)))))
    (local.set $v3 (v128.load (i32.add (local.get $src) (local.get $cs))))
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
    (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
    (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
    (v128.store (local.get $dst)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
    (v128.store offset=64 (local.get $dst)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
    (v128.store offset=128 (local.get $dst)
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
    (v128.store offset=192 (local.get $dst)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))))

  ;; Packs B[kc x nc] (row stride rs, column stride cs, bytes) into 16-column strips:
  ;; dst[strip][p][j] = B[p, 16*strip + j], zero columns past nc.
  (func $packB (param $kc i32) (param $nc i32) (param $b i32) (param $rs i32) (param $cs i32) (param $dst i32)
    (local $j i32) (local $w i32) (local $p i32) (local $jj i32) (local $col i32) (local $s i32)
    (loop $strip
      (local.set $col (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $cs))))
      (local.set $w (i32.sub (local.get $nc) (local.get $j)))
      (local.set $p (i32.const 0))
      (if (i32.and (i32.ge_u (local.get $w) (i32.const 16)) (i32.eq (local.get $cs) (i32.const 4)))
        (then
          ;; row-major B: each k-row of the strip is 4 contiguous vectors
          (loop $pr
            (v128.store (local.get $dst) (v128.load (local.get $col)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $col)))
            (v128.store offset=32 (local.get $dst) (v128.load offset=32 (local.get $col)))
            (v128.store offset=48 (local.get $dst) (v128.load offset=48 (local.get $col)))
            (local.set $col (i32.add (local.get $col) (local.get $rs)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
            (br_if $pr (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))
        (else
          (if (i32.and (i32.ge_u (local.get $w) (i32.const 16)) (i32.eq (local.get $rs) (i32.const 4)))
            (then
              ;; column-major B (transposed operand): 4x4 transposes, 4 k-values at a time
              (if (i32.ge_u (local.get $kc) (i32.const 4)) (then
                (loop $pt
                  (local.set $s (i32.add (local.get $col) (i32.shl (local.get $p) (i32.const 2))))
                  (call $tr4 (local.get $s) (local.get $cs) (local.get $dst))
                  (local.set $s (i32.add (local.get $s) (i32.shl (local.get $cs) (i32.const 2))))
                  (call $tr4 (local.get $s) (local.get $cs) (i32.add (local.get $dst) (i32.const 16)))
                  (local.set $s (i32.add (local.get $s) (i32.shl (local.get $cs) (i32.const 2))))
                  (call $tr4 (local.get $s) (local.get $cs) (i32.add (local.get $dst) (i32.const 32)))
                  (local.set $s (i32.add (local.get $s) (i32.shl (local.get $cs) (i32.const 2))))
                  (call $tr4 (local.get $s) (local.get $cs) (i32.add (local.get $dst) (i32.const 48)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 256)))
                  (br_if $pt (i32.le_u (local.tee $p (i32.add (local.get $p) (i32.const 4)))
                                       (i32.sub (local.get $kc) (i32.const 4)))))))
              (if (i32.lt_u (local.get $p) (local.get $kc)) (then
                (loop $p1
                  (local.set $s (i32.add (local.get $col) (i32.shl (local.get $p) (i32.const 2))))
                  (local.set $jj (i32.const 0))
                  (loop $j1
                    (f32.store (local.get $dst) (f32.load (local.get $s)))
                    (local.set $s (i32.add (local.get $s) (local.get $cs)))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                    (br_if $j1 (i32.lt_u (local.tee $jj (i32.add (local.get $jj) (i32.const 1))) (i32.const 16))))
                  (br_if $p1 (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))))
            (else
              ;; any strides, or the last partial strip (zero-padded to 16 columns)
              (loop $pg
                (local.set $s (i32.add (local.get $col) (i32.mul (local.get $p) (local.get $rs))))
                (local.set $jj (i32.const 0))
                (loop $jg
                  (f32.store (local.get $dst)
                    (if (result f32) (i32.lt_u (local.get $jj) (local.get $w))
                      (then (f32.load (local.get $s)))
                      (else (f32.const 0))))
                  (local.set $s (i32.add (local.get $s) (local.get $cs)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                  (br_if $jg (i32.lt_u (local.tee $jj (i32.add (local.get $jj) (i32.const 1))) (i32.const 16))))
                (br_if $pg (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc))))))))
      (br_if $strip (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 16))) (local.get $nc)))))

  ;; C[m x n] = (accum ? C : 0) + A[m x k] · B[k x n], m, n, k > 0. Strides and ldc in bytes.
  ;; scratch holds Ap (mcb*kcb floats), Bp (kcb*ncb floats) and a 2x16 tile; mcb is even,
  ;; ncb a multiple of 16. The k blocking depends only on k and kcb, so splitting m or n across
  ;; threads leaves every element's summation order unchanged.
  (func (export "gemm")
        (param $m i32) (param $n i32) (param $k i32)
        (param $a i32) (param $ars i32) (param $acs i32)
        (param $b i32) (param $brs i32) (param $bcs i32)
        (param $c i32) (param $ldc i32) (param $accum i32)
        (param $scratch i32) (param $mcb i32) (param $kcb i32) (param $ncb i32)
    (local $bp i32) (local $tmp i32) (local $jc i32) (local $pc i32) (local $ic i32)
    (local $nc i32) (local $kc i32) (local $mc i32)
    (local.set $bp (i32.add (local.get $scratch) (i32.shl (i32.mul (local.get $mcb) (local.get $kcb)) (i32.const 2))))
    (local.set $tmp (i32.add (local.get $bp) (i32.shl (i32.mul (local.get $kcb) (local.get $ncb)) (i32.const 2))))
    (loop $jl
      (local.set $nc (select (local.get $ncb) (i32.sub (local.get $n) (local.get $jc))
                             (i32.ge_u (i32.sub (local.get $n) (local.get $jc)) (local.get $ncb))))
      (local.set $pc (i32.const 0))
      (loop $pl
        (local.set $kc (select (local.get $kcb) (i32.sub (local.get $k) (local.get $pc))
                               (i32.ge_u (i32.sub (local.get $k) (local.get $pc)) (local.get $kcb))))
        (call $packB (local.get $kc) (local.get $nc)
                     (i32.add (i32.add (local.get $b) (i32.mul (local.get $pc) (local.get $brs)))
                              (i32.mul (local.get $jc) (local.get $bcs)))
                     (local.get $brs) (local.get $bcs) (local.get $bp))
        (local.set $ic (i32.const 0))
        (loop $il
          (local.set $mc (select (local.get $mcb) (i32.sub (local.get $m) (local.get $ic))
                                 (i32.ge_u (i32.sub (local.get $m) (local.get $ic)) (local.get $mcb))))
          (call $packA (local.get $mc) (local.get $kc)
                       (i32.add (i32.add (local.get $a) (i32.mul (local.get $ic) (local.get $ars)))
                                (i32.mul (local.get $pc) (local.get $acs)))
                       (local.get $ars) (local.get $acs) (local.get $scratch))
          (call $macro (local.get $mc) (local.get $nc) (local.get $kc) (local.get $scratch) (local.get $bp)
                       (i32.add (i32.add (local.get $c) (i32.mul (local.get $ic) (local.get $ldc)))
                                (i32.shl (local.get $jc) (i32.const 2)))
                       (local.get $ldc)
                       (i32.or (local.get $accum) (i32.ne (local.get $pc) (i32.const 0)))
                       (local.get $tmp))
          (br_if $il (i32.lt_u (local.tee $ic (i32.add (local.get $ic) (local.get $mcb))) (local.get $m))))
        (br_if $pl (i32.lt_u (local.tee $pc (i32.add (local.get $pc) (local.get $kcb))) (local.get $k))))
      (br_if $jl (i32.lt_u (local.tee $jc (i32.add (local.get $jc) (local.get $ncb))) (local.get $n)))))

  ;; Copies `bytes` (a multiple of 4): short runs word by word, long runs with memory.copy.
  (func $copy (param $d i32) (param $s i32) (param $bytes i32)
    (local $e i32)
    (if (i32.ge_u (local.get $bytes) (i32.const 64))
      (then (memory.copy (local.get $d) (local.get $s) (local.get $bytes)))
      (else
        (local.set $e (i32.add (local.get $d) (local.get $bytes)))
        (block $done (loop $w
          (br_if $done (i32.ge_u (local.get $d) (local.get $e)))
          (i32.store (local.get $d) (i32.load (local.get $s)))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (local.set $s (i32.add (local.get $s) (i32.const 4)))
          (br $w))))))

  ;; Zeroes `bytes` (a multiple of 4).
  (func $zero (param $d i32) (param $bytes i32)
    (local $e i32)
    (if (i32.ge_u (local.get $bytes) (i32.const 64))
      (then (memory.fill (local.get $d) (i32.const 0) (local.get $bytes)))
      (else
        (local.set $e (i32.add (local.get $d) (local.get $bytes)))
        (block $done (loop $w
          (br_if $done (i32.ge_u (local.get $d) (local.get $e)))
          (i32.store (local.get $d) (i32.const 0))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (br $w))))))

  ;; im2col for a 2-D convolution, NHWC input x[n][h][w][c] (c given in bytes as cb): writes
  ;; rows [row0, row0 + rows) of the matrix whose row (b, oy, ox) holds x under the filter
  ;; window, ordered (kh, kw, ci), zeros where the window leaves the input. rows > 0.
  (func (export "im2col")
        (param $x i32) (param $h i32) (param $w i32) (param $cb i32)
        (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
        (param $pt i32) (param $pl i32) (param $oh i32) (param $ow i32)
        (param $row0 i32) (param $rows i32) (param $dst i32)
    (local $ox i32) (local $oy i32) (local $b i32) (local $kh i32) (local $kw i32) (local $iy i32)
    (local $ix i32) (local $iy0 i32) (local $ix0 i32) (local $xrow i32) (local $runb i32)
    (local.set $runb (i32.mul (local.get $fw) (local.get $cb)))
    (local.set $ox (i32.rem_u (local.get $row0) (local.get $ow)))
    (local.set $oy (i32.div_u (local.get $row0) (local.get $ow)))
    (local.set $b (i32.div_u (local.get $oy) (local.get $oh)))
    (local.set $oy (i32.rem_u (local.get $oy) (local.get $oh)))
    (loop $row
      (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
      (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
      (local.set $kh (i32.const 0))
      (loop $khl
        (local.set $iy (i32.add (local.get $iy0) (i32.mul (local.get $kh) (local.get $dh))))
        (if (i32.lt_u (local.get $iy) (local.get $h))
          (then
            (local.set $xrow (i32.add (local.get $x)
              (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w))
                       (local.get $cb))))
            (if (i32.and (i32.eq (local.get $dw) (i32.const 1))
                         (i32.and (i32.ge_s (local.get $ix0) (i32.const 0))
                                  (i32.le_s (i32.add (local.get $ix0) (local.get $fw)) (local.get $w))))
              (then
                ;; the whole filter row is one contiguous run of x
                (call $copy (local.get $dst) (i32.add (local.get $xrow) (i32.mul (local.get $ix0) (local.get $cb)))
                            (local.get $runb))
                (local.set $dst (i32.add (local.get $dst) (local.get $runb))))
              (else
                (local.set $kw (i32.const 0))
                (loop $kwl
                  (local.set $ix (i32.add (local.get $ix0) (i32.mul (local.get $kw) (local.get $dw))))
                  (if (i32.lt_u (local.get $ix) (local.get $w))
                    (then (call $copy (local.get $dst) (i32.add (local.get $xrow) (i32.mul (local.get $ix) (local.get $cb)))
                                      (local.get $cb)))
                    (else (call $zero (local.get $dst) (local.get $cb))))
                  (local.set $dst (i32.add (local.get $dst) (local.get $cb)))
                  (br_if $kwl (i32.lt_u (local.tee $kw (i32.add (local.get $kw) (i32.const 1))) (local.get $fw)))))))
          (else
            (call $zero (local.get $dst) (local.get $runb))
            (local.set $dst (i32.add (local.get $dst) (local.get $runb)))))
        (br_if $khl (i32.lt_u (local.tee $kh (i32.add (local.get $kh) (i32.const 1))) (local.get $fh))))
      ;; next output position
      (if (i32.eq (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow)) (then
        (local.set $ox (i32.const 0))
        (if (i32.eq (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh)) (then
          (local.set $oy (i32.const 0))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))))))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  ;; Adds `bytes` (a multiple of 4) read at s into d: four floats at a time, then one by one.
  (func $addTo (param $d i32) (param $s i32) (param $bytes i32)
    (local $e i32)
    (local.set $e (i32.add (local.get $d) (local.get $bytes)))
    (block $vdone (loop $v
      (br_if $vdone (i32.gt_u (i32.add (local.get $d) (i32.const 16)) (local.get $e)))
      (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $s))))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (local.set $s (i32.add (local.get $s) (i32.const 16)))
      (br $v)))
    (block $done (loop $w
      (br_if $done (i32.ge_u (local.get $d) (local.get $e)))
      (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (f32.load (local.get $s))))
      (local.set $d (i32.add (local.get $d) (i32.const 4)))
      (local.set $s (i32.add (local.get $s) (i32.const 4)))
      (br $w))))

  ;; col2im, the adjoint of im2col (for conv2d-backprop.ts): adds rows [row0, row0 + rows) of
  ;; the im2col-shaped matrix at src (row (b, oy, ox), columns (kh, kw, ci)) into the NHWC
  ;; tensor x[n][h][w][c] (c in bytes as cb) at the positions im2col reads them from; taps
  ;; outside the input are dropped. Rows are added in order, so results are deterministic.
  (func (export "col2im")
        (param $x i32) (param $h i32) (param $w i32) (param $cb i32)
        (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
        (param $pt i32) (param $pl i32) (param $oh i32) (param $ow i32)
        (param $row0 i32) (param $rows i32) (param $src i32)
    (local $ox i32) (local $oy i32) (local $b i32) (local $kh i32) (local $kw i32) (local $iy i32)
    (local $ix i32) (local $iy0 i32) (local $ix0 i32) (local $xrow i32) (local $runb i32)
    (local.set $runb (i32.mul (local.get $fw) (local.get $cb)))
    (local.set $ox (i32.rem_u (local.get $row0) (local.get $ow)))
    (local.set $oy (i32.div_u (local.get $row0) (local.get $ow)))
    (local.set $b (i32.div_u (local.get $oy) (local.get $oh)))
    (local.set $oy (i32.rem_u (local.get $oy) (local.get $oh)))
    (loop $row
      (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
      (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
      (local.set $kh (i32.const 0))
      (loop $khl
        (local.set $iy (i32.add (local.get $iy0) (i32.mul (local.get $kh) (local.get $dh))))
        (if (i32.lt_u (local.get $iy) (local.get $h))
          (then
            (local.set $xrow (i32.add (local.get $x)
              (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w))
                       (local.get $cb))))
            (if (i32.and (i32.eq (local.get $dw) (i32.const 1))
                         (i32.and (i32.ge_s (local.get $ix0) (i32.const 0))
                                  (i32.le_s (i32.add (local.get $ix0) (local.get $fw)) (local.get $w))))
              (then
                ;; the whole filter row lands on one contiguous run of x
                (call $addTo (i32.add (local.get $xrow) (i32.mul (local.get $ix0) (local.get $cb))) (local.get $src)
                             (local.get $runb)))
              (else
                (local.set $kw (i32.const 0))
                (loop $kwl
                  (local.set $ix (i32.add (local.get $ix0) (i32.mul (local.get $kw) (local.get $dw))))
                  (if (i32.lt_u (local.get $ix) (local.get $w))
                    (then (call $addTo (i32.add (local.get $xrow) (i32.mul (local.get $ix) (local.get $cb)))
                                       (i32.add (local.get $src) (i32.mul (local.get $kw) (local.get $cb)))
                                       (local.get $cb))))
                  (br_if $kwl (i32.lt_u (local.tee $kw (i32.add (local.get $kw) (i32.const 1))) (local.get $fw))))))))
        (local.set $src (i32.add (local.get $src) (local.get $runb)))
        (br_if $khl (i32.lt_u (local.tee $kh (i32.add (local.get $kh) (i32.const 1))) (local.get $fh))))
      ;; next output position
      (if (i32.eq (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow)) (then
        (local.set $ox (i32.const 0))
        (if (i32.eq (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh)) (then
          (local.set $oy (i32.const 0))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))))))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  ;; d[i] += a[i] * b[i] for n floats: four at a time, then one by one (depthwise, multiplier 1).
  (func $fma3 (param $d i32) (param $a i32) (param $b i32) (param $n i32)
    (local $e i32)
    (local.set $e (i32.add (local.get $d) (i32.shl (local.get $n) (i32.const 2))))
    (block $vdone (loop $v
      (br_if $vdone (i32.gt_u (i32.add (local.get $d) (i32.const 16)) (local.get $e)))
      (v128.store (local.get $d)
        (f32x4.add (v128.load (local.get $d)) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b)))))
      (local.set $d (i32.add (local.get $d) (i32.const 16)))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (br $v)))
    (block $done (loop $w
      (br_if $done (i32.ge_u (local.get $d) (local.get $e)))
      (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (f32.mul (f32.load (local.get $a)) (f32.load (local.get $b)))))
      (local.set $d (i32.add (local.get $d) (i32.const 4)))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (br $w))))

  ;; One depthwise filter tap over all channels (multiplier m): x, f, y point at x[b,iy,ix,0],
  ;; filter[kh,kw,0,0] and y[b,oy,ox,0]. mode 0: y += x * f (forward); 1: x += y * f summed
  ;; over the multiplier (input gradient, x is dx, y is dy); 2: f += x * y (filter gradient).
  (func $dwTap (param $mode i32) (param $x i32) (param $f i32) (param $y i32) (param $c i32) (param $m i32)
    (local $i i32) (local $j i32) (local $xv f32) (local $s f32)
    (if (i32.eq (local.get $m) (i32.const 1))
      (then
        (if (i32.eqz (local.get $mode)) (then (call $fma3 (local.get $y) (local.get $x) (local.get $f) (local.get $c)) (return)))
        (if (i32.eq (local.get $mode) (i32.const 1)) (then (call $fma3 (local.get $x) (local.get $y) (local.get $f) (local.get $c)) (return)))
        (call $fma3 (local.get $f) (local.get $x) (local.get $y) (local.get $c))
        (return)))
    (loop $cl
      (local.set $j (i32.const 0))
      (if (i32.eq (local.get $mode) (i32.const 1))
        (then
          (local.set $s (f32.const 0))
          (loop $dot
            (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $y)) (f32.load (local.get $f)))))
            (local.set $y (i32.add (local.get $y) (i32.const 4)))
            (local.set $f (i32.add (local.get $f) (i32.const 4)))
            (br_if $dot (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $m))))
          (f32.store (local.get $x) (f32.add (f32.load (local.get $x)) (local.get $s))))
        (else
          (local.set $xv (f32.load (local.get $x)))
          (loop $axpy
            (if (i32.eqz (local.get $mode))
              (then (f32.store (local.get $y) (f32.add (f32.load (local.get $y)) (f32.mul (local.get $xv) (f32.load (local.get $f))))))
              (else (f32.store (local.get $f) (f32.add (f32.load (local.get $f)) (f32.mul (local.get $xv) (f32.load (local.get $y)))))))
            (local.set $y (i32.add (local.get $y) (i32.const 4)))
            (local.set $f (i32.add (local.get $f) (i32.const 4)))
            (br_if $axpy (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $m))))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (br_if $cl (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $c)))))

  ;; depthwiseConv2d and its gradients (for depthwise.ts): for every output pixel (b, oy, ox) of
  ;; [nb, oh, ow] and in-bounds tap (kh, kw), $dwTap in `mode` on x [nb][h][w][c], filter
  ;; [fh][fw][c][m] and y [nb][oh][ow][c*m]; the caller zeroes the output first. c, m > 0.
  (func (export "depthwise")
        (param $mode i32) (param $x i32) (param $f i32) (param $y i32)
        (param $nb i32) (param $h i32) (param $w i32) (param $c i32) (param $m i32)
        (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
        (param $pt i32) (param $pl i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $kh i32) (local $kw i32) (local $iy i32) (local $ix i32)
    (local $cb i32) (local $yb i32) (local $ypix i32) (local $xrow i32) (local $tapb i32)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $ypix (i32.mul (local.get $cb) (local.get $m)))
    (local.set $tapb (local.get $ypix))
    (local.set $yb (local.get $y))
    (if (i32.or (i32.or (i32.eqz (local.get $nb)) (i32.eqz (local.get $oh))) (i32.eqz (local.get $ow))) (then (return)))
    (loop $bl
      (local.set $oy (i32.const 0))
      (loop $yl
        (local.set $ox (i32.const 0))
        (loop $xl
          (local.set $kh (i32.const 0))
          (loop $khl
            (local.set $iy (i32.add (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt))
                                    (i32.mul (local.get $kh) (local.get $dh))))
            (if (i32.lt_u (local.get $iy) (local.get $h)) (then
              (local.set $xrow (i32.add (local.get $x)
                (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w))
                         (local.get $cb))))
              (local.set $kw (i32.const 0))
              (loop $kwl
                (local.set $ix (i32.add (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl))
                                        (i32.mul (local.get $kw) (local.get $dw))))
                (if (i32.lt_u (local.get $ix) (local.get $w)) (then
                  (call $dwTap (local.get $mode)
                    (i32.add (local.get $xrow) (i32.mul (local.get $ix) (local.get $cb)))
                    (i32.add (local.get $f) (i32.mul (i32.add (i32.mul (local.get $kh) (local.get $fw)) (local.get $kw))
                                                     (local.get $tapb)))
                    (local.get $yb) (local.get $c) (local.get $m))))
                (br_if $kwl (i32.lt_u (local.tee $kw (i32.add (local.get $kw) (i32.const 1))) (local.get $fw))))))
            (br_if $khl (i32.lt_u (local.tee $kh (i32.add (local.get $kh) (i32.const 1))) (local.get $fh))))
          (local.set $yb (i32.add (local.get $yb) (local.get $ypix)))
          (br_if $xl (i32.lt_u (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow))))
        (br_if $yl (i32.lt_u (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh))))
      (br_if $bl (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $nb)))))

  ;; ---- Direct convolution for few input channels (direct-conv.ts) ----
  ;; The $dc* blocks compute one block of outputs (y = (acc ? y : 0) + the taps) over the same
  ;; tap walk: nout runs (x += xo, f += fo per run) of nin taps whose x values are consecutive
  ;; floats and whose filter rows (HWIO, over Cout) are coutb bytes apart; nout, nin >= 1.
  ;; x: the first tap of the (first) pixel; f: the filter row of that tap at the block's first
  ;; output channel; y: the block's first output. Taps are added in (kh, kw, ci) order.

  ;; Two output pixels (the second's taps px bytes further in x, its outputs at y + coutb) x 16
  ;; output channels: 8 accumulators.
  (func $dc2x16 (param $x i32) (param $px i32) (param $f i32)
                (param $nout i32) (param $xo i32) (param $fo i32)
                (param $nin i32) (param $coutb i32) (param $y i32) (param $acc i32)
    (local $c00 v128) (local $c01 v128) (local $c02 v128) (local $c03 v128)
    (local $c10 v128) (local $c11 v128) (local $c12 v128) (local $c13 v128)
    (local $a0 v128) (local $a1 v128) (local $b v128) (local $y1 i32)
    (local $xp i32) (local $fp i32) (local $i i32)
    (local.set $y1 (i32.add (local.get $y) (local.get $coutb)))
    (if (local.get $acc) (then
      (local.set $c00 (v128.load (local.get $y)))
      (local.set $c01 (v128.load offset=16 (local.get $y)))
      (local.set $c02 (v128.load offset=32 (local.get $y)))
      (local.set $c03 (v128.load offset=48 (local.get $y)))
      (local.set $c10 (v128.load (local.get $y1)))
      (local.set $c11 (v128.load offset=16 (local.get $y1)))
      (local.set $c12 (v128.load offset=32 (local.get $y1)))
      (local.set $c13 (v128.load offset=48 (local.get $y1)))))
    (loop $out
      (local.set $xp (local.get $x))
      (local.set $fp (local.get $f))
      (local.set $i (local.get $nin))
      (loop $in
        (local.set $a0 (v128.load32_splat (local.get $xp)))
        (local.set $a1 (v128.load32_splat (i32.add (local.get $xp) (local.get $px))))
        (local.set $b (v128.load (local.get $fp)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $a0) (local.get $b))))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $a1) (local.get $b))))
        (local.set $b (v128.load offset=16 (local.get $fp)))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $a0) (local.get $b))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $a1) (local.get $b))))
        (local.set $b (v128.load offset=32 (local.get $fp)))
        (local.set $c02 (f32x4.add (local.get $c02) (f32x4.mul (local.get $a0) (local.get $b))))
        (local.set $c12 (f32x4.add (local.get $c12) (f32x4.mul (local.get $a1) (local.get $b))))
        (local.set $b (v128.load offset=48 (local.get $fp)))
        (local.set $c03 (f32x4.add (local.get $c03) (f32x4.mul (local.get $a0) (local.get $b))))
        (local.set $c13 (f32x4.add (local.get $c13) (f32x4.mul (local.get $a1) (local.get $b))))
        (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
        (local.set $fp (i32.add (local.get $fp) (local.get $coutb)))
        (br_if $in (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (local.set $x (i32.add (local.get $x) (local.get $xo)))
      (local.set $f (i32.add (local.get $f) (local.get $fo)))
      (br_if $out (local.tee $nout (i32.sub (local.get $nout) (i32.const 1)))))
    (v128.store (local.get $y) (local.get $c00))
    (v128.store offset=16 (local.get $y) (local.get $c01))
    (v128.store offset=32 (local.get $y) (local.get $c02))
    (v128.store offset=48 (local.get $y) (local.get $c03))
    (v128.store (local.get $y1) (local.get $c10))
    (v128.store offset=16 (local.get $y1) (local.get $c11))
    (v128.store offset=32 (local.get $y1) (local.get $c12))
    (v128.store offset=48 (local.get $y1) (local.get $c13)))

  ;; One output pixel x 16 output channels.
  (func $dc1x16 (param $x i32) (param $f i32)
                (param $nout i32) (param $xo i32) (param $fo i32)
                (param $nin i32) (param $coutb i32) (param $y i32) (param $acc i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $a v128)
    (local $xp i32) (local $fp i32) (local $i i32)
    (if (local.get $acc) (then
      (local.set $c0 (v128.load (local.get $y)))
      (local.set $c1 (v128.load offset=16 (local.get $y)))
      (local.set $c2 (v128.load offset=32 (local.get $y)))
      (local.set $c3 (v128.load offset=48 (local.get $y)))))
    (loop $out
      (local.set $xp (local.get $x))
      (local.set $fp (local.get $f))
      (local.set $i (local.get $nin))
      (loop $in
        (local.set $a (v128.load32_splat (local.get $xp)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $a) (v128.load (local.get $fp)))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $a) (v128.load offset=16 (local.get $fp)))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $a) (v128.load offset=32 (local.get $fp)))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (local.get $a) (v128.load offset=48 (local.get $fp)))))
        (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
        (local.set $fp (i32.add (local.get $fp) (local.get $coutb)))
        (br_if $in (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (local.set $x (i32.add (local.get $x) (local.get $xo)))
      (local.set $f (i32.add (local.get $f) (local.get $fo)))
      (br_if $out (local.tee $nout (i32.sub (local.get $nout) (i32.const 1)))))
    (v128.store (local.get $y) (local.get $c0))
    (v128.store offset=16 (local.get $y) (local.get $c1))
    (v128.store offset=32 (local.get $y) (local.get $c2))
    (v128.store offset=48 (local.get $y) (local.get $c3)))

  ;; One output pixel x 4 output channels.
  (func $dc1x4 (param $x i32) (param $f i32)
                (param $nout i32) (param $xo i32) (param $fo i32)
                (param $nin i32) (param $coutb i32) (param $y i32) (param $acc i32)
    (local $c v128)
    (local $xp i32) (local $fp i32) (local $i i32)
    (if (local.get $acc) (then (local.set $c (v128.load (local.get $y)))))
    (loop $out
      (local.set $xp (local.get $x))
      (local.set $fp (local.get $f))
      (local.set $i (local.get $nin))
      (loop $in
        (local.set $c (f32x4.add (local.get $c)
          (f32x4.mul (v128.load32_splat (local.get $xp)) (v128.load (local.get $fp)))))
        (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
        (local.set $fp (i32.add (local.get $fp) (local.get $coutb)))
        (br_if $in (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (local.set $x (i32.add (local.get $x) (local.get $xo)))
      (local.set $f (i32.add (local.get $f) (local.get $fo)))
      (br_if $out (local.tee $nout (i32.sub (local.get $nout) (i32.const 1)))))
    (v128.store (local.get $y) (local.get $c)))

  ;; One output pixel x 1 output channel (the Cout % 4 tail).
  (func $dc1x1 (param $x i32) (param $f i32)
                (param $nout i32) (param $xo i32) (param $fo i32)
                (param $nin i32) (param $coutb i32) (param $y i32) (param $acc i32)
    (local $c f32)
    (local $xp i32) (local $fp i32) (local $i i32)
    (if (local.get $acc) (then (local.set $c (f32.load (local.get $y)))))
    (loop $out
      (local.set $xp (local.get $x))
      (local.set $fp (local.get $f))
      (local.set $i (local.get $nin))
      (loop $in
        (local.set $c (f32.add (local.get $c) (f32.mul (f32.load (local.get $xp)) (f32.load (local.get $fp)))))
        (local.set $xp (i32.add (local.get $xp) (i32.const 4)))
        (local.set $fp (i32.add (local.get $fp) (local.get $coutb)))
        (br_if $in (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (local.set $x (i32.add (local.get $x) (local.get $xo)))
      (local.set $f (i32.add (local.get $f) (local.get $fo)))
      (br_if $out (local.tee $nout (i32.sub (local.get $nout) (i32.const 1)))))
    (f32.store (local.get $y) (local.get $c)))

  ;; For a window starting at input index i0 (may be negative) with taps i0 + k*d: the first
  ;; tap index >= 0 ($tapLo) and one past the last tap index < n, at most taps ($tapEnd).
  ;; The in-bounds taps are [lo, end); none when end <= lo (compare signed).
  (func $tapLo (param $i0 i32) (param $d i32) (result i32)
    (if (result i32) (i32.ge_s (local.get $i0) (i32.const 0))
      (then (i32.const 0))
      (else (if (result i32) (i32.eq (local.get $d) (i32.const 1)) (then (i32.sub (i32.const 0) (local.get $i0))) (else (i32.div_u (i32.add (i32.sub (i32.const 0) (local.get $i0)) (i32.sub (local.get $d) (i32.const 1)))
                       (local.get $d)))))))
  (func $tapEnd (param $i0 i32) (param $n i32) (param $taps i32) (param $d i32) (result i32)
    (local $e i32)
    (if (i32.ge_s (local.get $i0) (local.get $n)) (then (return (i32.const 0))))
    (if (i32.eq (local.get $d) (i32.const 1)) (then
      (local.set $e (i32.sub (local.get $n) (local.get $i0)))
      (return (select (local.get $e) (local.get $taps) (i32.lt_u (local.get $e) (local.get $taps))))))
    (local.set $e (i32.add (i32.div_u (i32.sub (i32.sub (local.get $n) (i32.const 1)) (local.get $i0)) (local.get $d))
                           (i32.const 1)))
    (select (local.get $e) (local.get $taps) (i32.lt_u (local.get $e) (local.get $taps))))

  ;; Every output channel of one pixel (and of the next one too when pair) over one tap walk
  ;; (the $dc* parameters): 16-channel blocks, then 4-channel blocks, then single channels.
  (func $dcPixel (param $x i32) (param $px i32) (param $f i32) (param $pair i32)
                 (param $nout i32) (param $xo i32) (param $fo i32)
                 (param $nin i32) (param $coutb i32) (param $y i32) (param $acc i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.and (local.get $coutb) (i32.const -64))))
    (block $d16 (loop $c16
      (br_if $d16 (i32.ge_u (local.get $y) (local.get $end)))
      (if (local.get $pair)
        (then (call $dc2x16 (local.get $x) (local.get $px) (local.get $f) (local.get $nout) (local.get $xo) (local.get $fo)
                            (local.get $nin) (local.get $coutb) (local.get $y) (local.get $acc)))
        (else (call $dc1x16 (local.get $x) (local.get $f) (local.get $nout) (local.get $xo) (local.get $fo)
                            (local.get $nin) (local.get $coutb) (local.get $y) (local.get $acc))))
      (local.set $f (i32.add (local.get $f) (i32.const 64)))
      (local.set $y (i32.add (local.get $y) (i32.const 64)))
      (br $c16)))
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $coutb) (i32.const 48))))
    (block $d4 (loop $c4
      (br_if $d4 (i32.ge_u (local.get $y) (local.get $end)))
      (call $dc1x4 (local.get $x) (local.get $f) (local.get $nout) (local.get $xo) (local.get $fo)
                   (local.get $nin) (local.get $coutb) (local.get $y) (local.get $acc))
      (if (local.get $pair) (then
        (call $dc1x4 (i32.add (local.get $x) (local.get $px)) (local.get $f) (local.get $nout) (local.get $xo) (local.get $fo)
                     (local.get $nin) (local.get $coutb) (i32.add (local.get $y) (local.get $coutb)) (local.get $acc))))
      (local.set $f (i32.add (local.get $f) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (br $c4)))
    (local.set $end (i32.add (local.get $end) (i32.and (local.get $coutb) (i32.const 12))))
    (block $d1 (loop $c1
      (br_if $d1 (i32.ge_u (local.get $y) (local.get $end)))
      (call $dc1x1 (local.get $x) (local.get $f) (local.get $nout) (local.get $xo) (local.get $fo)
                   (local.get $nin) (local.get $coutb) (local.get $y) (local.get $acc))
      (if (local.get $pair) (then
        (call $dc1x1 (i32.add (local.get $x) (local.get $px)) (local.get $f) (local.get $nout) (local.get $xo) (local.get $fo)
                     (local.get $nin) (local.get $coutb) (i32.add (local.get $y) (local.get $coutb)) (local.get $acc))))
      (local.set $f (i32.add (local.get $f) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (br $c1))))

  ;; conv2d (NHWC x [nb][h][w][cin], HWIO filter [fh][fw][cin][cout], NHWC y [nb][oh][ow][cout])
  ;; without im2col, for output rows [row0, row0 + rows) of the nb*oh rows. Each output
  ;; pixel walks only its in-bounds taps; two neighbouring pixels with the same in-bounds taps
  ;; share filter loads (2 x 16 blocks). Without dilation along w, a filter row's in-bounds
  ;; taps are one run of consecutive floats in x and one walk covers the window; with it, each
  ;; filter row is a walk of its own, accumulated in y. Pixels with no in-bounds tap get 0.
  ;; Every output of the rows is written (overwritten). cin, cout, oh, ow >= 1.
  (func (export "directConv")
        (param $row0 i32) (param $rows i32)
        (param $x i32) (param $f i32) (param $y i32)
        (param $h i32) (param $w i32) (param $cin i32) (param $cout i32)
        (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
        (param $pt i32) (param $pl i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $iy0 i32) (local $ix0 i32)
    (local $kh0 i32) (local $nkh i32) (local $kw0 i32) (local $nkw i32) (local $pair i32) (local $r i32)
    (local $cinb i32) (local $coutb i32) (local $xrow i32) (local $xp i32) (local $fp i32) (local $yp i32)
    (local $xkh i32) (local $fkh i32) (local $px i32)
    (if (i32.eqz (local.get $rows)) (then (return)))
    (local.set $cinb (i32.shl (local.get $cin) (i32.const 2)))
    (local.set $coutb (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $px (i32.mul (local.get $sw) (local.get $cinb)))
    (local.set $xkh (i32.mul (i32.mul (local.get $dh) (local.get $w)) (local.get $cinb)))
    (local.set $fkh (i32.mul (i32.mul (local.get $fw) (local.get $cin)) (local.get $coutb)))
    (local.set $oy (i32.rem_u (local.get $row0) (local.get $oh)))
    (local.set $b (i32.div_u (local.get $row0) (local.get $oh)))
    (local.set $yp (i32.add (local.get $y) (i32.mul (i32.mul (local.get $row0) (local.get $ow)) (local.get $coutb))))
    (loop $row
      (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
      (local.set $kh0 (call $tapLo (local.get $iy0) (local.get $dh)))
      (local.set $nkh (i32.sub (call $tapEnd (local.get $iy0) (local.get $h) (local.get $fh) (local.get $dh))
                               (local.get $kh0)))
      (local.set $xrow (i32.add (local.get $x)
        (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h))
                                   (i32.add (local.get $iy0) (i32.mul (local.get $kh0) (local.get $dh))))
                          (local.get $w))
                 (local.get $cinb))))
      (local.set $ox (i32.const 0))
      (loop $pix
        (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
        (local.set $kw0 (call $tapLo (local.get $ix0) (local.get $dw)))
        (local.set $nkw (i32.sub (call $tapEnd (local.get $ix0) (local.get $w) (local.get $fw) (local.get $dw))
                                 (local.get $kw0)))
        (local.set $pair (i32.const 0))
        (if (i32.or (i32.le_s (local.get $nkh) (i32.const 0)) (i32.le_s (local.get $nkw) (i32.const 0)))
          (then (memory.fill (local.get $yp) (i32.const 0) (local.get $coutb)))
          (else
            ;; the next pixel pairs with this one when its in-bounds taps are the same
            (if (i32.lt_u (i32.add (local.get $ox) (i32.const 1)) (local.get $ow)) (then
              (local.set $pair (i32.and
                (i32.eq (call $tapLo (i32.add (local.get $ix0) (local.get $sw)) (local.get $dw)) (local.get $kw0))
                (i32.eq (call $tapEnd (i32.add (local.get $ix0) (local.get $sw)) (local.get $w) (local.get $fw) (local.get $dw))
                        (i32.add (local.get $kw0) (local.get $nkw)))))))
            (local.set $xp (i32.add (local.get $xrow)
              (i32.mul (i32.add (local.get $ix0) (i32.mul (local.get $kw0) (local.get $dw))) (local.get $cinb))))
            (local.set $fp (i32.add (local.get $f)
              (i32.mul (i32.mul (i32.add (i32.mul (local.get $kh0) (local.get $fw)) (local.get $kw0)) (local.get $cin))
                       (local.get $coutb))))
            (if (i32.eq (local.get $dw) (i32.const 1))
              (then
                (call $dcPixel (local.get $xp) (local.get $px) (local.get $fp) (local.get $pair)
                               (local.get $nkh) (local.get $xkh) (local.get $fkh)
                               (i32.mul (local.get $nkw) (local.get $cin)) (local.get $coutb) (local.get $yp) (i32.const 0)))
              (else
                (local.set $r (i32.const 0))
                (loop $rl
                  (call $dcPixel (local.get $xp) (local.get $px) (local.get $fp) (local.get $pair)
                                 (local.get $nkw) (i32.mul (local.get $dw) (local.get $cinb)) (i32.mul (local.get $cin) (local.get $coutb))
                                 (local.get $cin) (local.get $coutb) (local.get $yp) (local.get $r))
                  (local.set $xp (i32.add (local.get $xp) (local.get $xkh)))
                  (local.set $fp (i32.add (local.get $fp) (local.get $fkh)))
                  (br_if $rl (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $nkh))))))))
        (if (local.get $pair) (then
          (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
          (local.set $yp (i32.add (local.get $yp) (local.get $coutb)))))
        (local.set $yp (i32.add (local.get $yp) (local.get $coutb)))
        (br_if $pix (i32.lt_u (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow))))
      (if (i32.eq (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh)) (then
        (local.set $oy (i32.const 0))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))

  ;; ---- 2-D max/avg pooling forward (pool.ts) ----
  ;; The pixel helpers reduce, per channel, the nkh x nkw in-bounds taps of one window (rows
  ;; xkh bytes apart, taps xkw bytes apart, p at the first tap's channel 0) into y[0..c).
  ;; Max keeps m unless v > m, or v is NaN while m is not: the first maximum (or first NaN) in
  ;; row-major window order wins, exactly as the reference kernel picks it (f32x4.max would
  ;; order -0/+0 ties differently).
  (func $poolMaxPix (param $p i32) (param $nkh i32) (param $xkh i32) (param $nkw i32) (param $xkw i32)
                    (param $c i32) (param $y i32)
    (local $e i32) (local $q i32) (local $r i32) (local $i i32) (local $j i32)
    (local $m v128) (local $v v128) (local $m1 f32) (local $v1 f32)
    (local.set $e (i32.add (local.get $y) (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2))))
    (block $vdone (loop $vl
      (br_if $vdone (i32.ge_u (local.get $y) (local.get $e)))
      (local.set $m (v128.load (local.get $p)))
      (local.set $q (local.get $p))
      (local.set $i (local.get $nkh))
      (loop $kh
        (local.set $r (local.get $q))
        (local.set $j (local.get $nkw))
        (loop $kw
          (local.set $v (v128.load (local.get $r)))
          (local.set $m (v128.bitselect (local.get $v) (local.get $m)
            (v128.andnot (f32x4.eq (local.get $m) (local.get $m)) (f32x4.le (local.get $v) (local.get $m)))))
          (local.set $r (i32.add (local.get $r) (local.get $xkw)))
          (br_if $kw (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $q (i32.add (local.get $q) (local.get $xkh)))
        (br_if $kh (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (v128.store (local.get $y) (local.get $m))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $vl)))
    (local.set $e (i32.add (local.get $e) (i32.shl (i32.and (local.get $c) (i32.const 3)) (i32.const 2))))
    (block $sdone (loop $sl
      (br_if $sdone (i32.ge_u (local.get $y) (local.get $e)))
      (local.set $m1 (f32.load (local.get $p)))
      (local.set $q (local.get $p))
      (local.set $i (local.get $nkh))
      (loop $kh
        (local.set $r (local.get $q))
        (local.set $j (local.get $nkw))
        (loop $kw
          (local.set $v1 (f32.load (local.get $r)))
          (local.set $m1 (select (local.get $v1) (local.get $m1)
            (i32.and (f32.eq (local.get $m1) (local.get $m1)) (i32.eqz (f32.le (local.get $v1) (local.get $m1))))))
          (local.set $r (i32.add (local.get $r) (local.get $xkw)))
          (br_if $kw (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $q (i32.add (local.get $q) (local.get $xkh)))
        (br_if $kh (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (f32.store (local.get $y) (local.get $m1))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $sl))))

  ;; Average: float64 sums from 0 in row-major window order, divided by cnt and rounded once
  ;; to float32, exactly as the reference kernel computes them.
  (func $poolAvgPix (param $p i32) (param $nkh i32) (param $xkh i32) (param $nkw i32) (param $xkw i32)
                    (param $c i32) (param $y i32) (param $cnt f64)
    (local $e i32) (local $q i32) (local $r i32) (local $i i32) (local $j i32)
    (local $lo v128) (local $hi v128) (local $v v128) (local $dv v128) (local $s f64)
    (local.set $dv (f64x2.splat (local.get $cnt)))
    (local.set $e (i32.add (local.get $y) (i32.shl (i32.and (local.get $c) (i32.const -4)) (i32.const 2))))
    (block $vdone (loop $vl
      (br_if $vdone (i32.ge_u (local.get $y) (local.get $e)))
      (local.set $lo (v128.const i64x2 0 0))
      (local.set $hi (v128.const i64x2 0 0))
      (local.set $q (local.get $p))
      (local.set $i (local.get $nkh))
      (loop $kh
        (local.set $r (local.get $q))
        (local.set $j (local.get $nkw))
        (loop $kw
          (local.set $v (v128.load (local.get $r)))
          (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
          (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))))
          (local.set $r (i32.add (local.get $r) (local.get $xkw)))
          (br_if $kw (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $q (i32.add (local.get $q) (local.get $xkh)))
        (br_if $kh (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (v128.store (local.get $y)
        (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
          (f32x4.demote_f64x2_zero (f64x2.div (local.get $lo) (local.get $dv)))
          (f32x4.demote_f64x2_zero (f64x2.div (local.get $hi) (local.get $dv)))))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $vl)))
    (local.set $e (i32.add (local.get $e) (i32.shl (i32.and (local.get $c) (i32.const 3)) (i32.const 2))))
    (block $sdone (loop $sl
      (br_if $sdone (i32.ge_u (local.get $y) (local.get $e)))
      (local.set $s (f64.const 0))
      (local.set $q (local.get $p))
      (local.set $i (local.get $nkh))
      (loop $kh
        (local.set $r (local.get $q))
        (local.set $j (local.get $nkw))
        (loop $kw
          (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $r)))))
          (local.set $r (i32.add (local.get $r) (local.get $xkw)))
          (br_if $kw (local.tee $j (i32.sub (local.get $j) (i32.const 1)))))
        (local.set $q (i32.add (local.get $q) (local.get $xkh)))
        (br_if $kh (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
      (f32.store (local.get $y) (f32.demote_f64 (f64.div (local.get $s) (local.get $cnt))))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $sl))))

  ;; maxPool (mode 0) or avgPool (mode 1: divide by the in-bounds taps; mode 2: by the taps
  ;; inside the padded input, countIncludePad) over NHWC x [nb][h][w][c] into y [nb][oh][ow][c],
  ;; output rows [row0, row0 + rows) of the nb*oh rows. pb/pr: bottom/right padding (mode 2).
  ;; A window with no in-bounds tap gives 0. Every output of the rows is written. c >= 1.
  (func (export "pool2d")
        (param $row0 i32) (param $rows i32) (param $mode i32)
        (param $x i32) (param $y i32)
        (param $h i32) (param $w i32) (param $c i32)
        (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $dh i32) (param $dw i32)
        (param $pt i32) (param $pl i32) (param $pb i32) (param $pr i32) (param $oh i32) (param $ow i32)
    (local $b i32) (local $oy i32) (local $ox i32) (local $iy0 i32) (local $ix0 i32)
    (local $kh0 i32) (local $nkh i32) (local $kw0 i32) (local $nkw i32) (local $padH i32)
    (local $cb i32) (local $xrow i32) (local $yp i32) (local $xkh i32) (local $xkw i32) (local $cnt i32)
    (if (i32.eqz (local.get $rows)) (then (return)))
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $xkh (i32.mul (i32.mul (local.get $dh) (local.get $w)) (local.get $cb)))
    (local.set $xkw (i32.mul (local.get $dw) (local.get $cb)))
    (local.set $oy (i32.rem_u (local.get $row0) (local.get $oh)))
    (local.set $b (i32.div_u (local.get $row0) (local.get $oh)))
    (local.set $yp (i32.add (local.get $y) (i32.mul (i32.mul (local.get $row0) (local.get $ow)) (local.get $cb))))
    (loop $row
      (local.set $iy0 (i32.sub (i32.mul (local.get $oy) (local.get $sh)) (local.get $pt)))
      (local.set $kh0 (call $tapLo (local.get $iy0) (local.get $dh)))
      (local.set $nkh (i32.sub (call $tapEnd (local.get $iy0) (local.get $h) (local.get $fh) (local.get $dh))
                               (local.get $kh0)))
      (local.set $padH (call $tapEnd (i32.mul (local.get $oy) (local.get $sh))
                                     (i32.add (i32.add (local.get $h) (local.get $pt)) (local.get $pb))
                                     (local.get $fh) (local.get $dh)))
      (local.set $xrow (i32.add (local.get $x)
        (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h))
                                   (i32.add (local.get $iy0) (i32.mul (local.get $kh0) (local.get $dh))))
                          (local.get $w))
                 (local.get $cb))))
      (local.set $ox (i32.const 0))
      (loop $pix
        (local.set $ix0 (i32.sub (i32.mul (local.get $ox) (local.get $sw)) (local.get $pl)))
        (local.set $kw0 (call $tapLo (local.get $ix0) (local.get $dw)))
        (local.set $nkw (i32.sub (call $tapEnd (local.get $ix0) (local.get $w) (local.get $fw) (local.get $dw))
                                 (local.get $kw0)))
        (if (i32.or (i32.le_s (local.get $nkh) (i32.const 0)) (i32.le_s (local.get $nkw) (i32.const 0)))
          (then (memory.fill (local.get $yp) (i32.const 0) (local.get $cb)))
          (else
            (if (i32.eqz (local.get $mode))
              (then
                (call $poolMaxPix
                  (i32.add (local.get $xrow) (i32.mul (i32.add (local.get $ix0) (i32.mul (local.get $kw0) (local.get $dw))) (local.get $cb)))
                  (local.get $nkh) (local.get $xkh) (local.get $nkw) (local.get $xkw) (local.get $c) (local.get $yp)))
              (else
                (local.set $cnt (i32.mul (local.get $nkh) (local.get $nkw)))
                (if (i32.eq (local.get $mode) (i32.const 2)) (then
                  (local.set $cnt (i32.mul (local.get $padH)
                    (call $tapEnd (i32.mul (local.get $ox) (local.get $sw))
                                  (i32.add (i32.add (local.get $w) (local.get $pl)) (local.get $pr))
                                  (local.get $fw) (local.get $dw))))))
                (call $poolAvgPix
                  (i32.add (local.get $xrow) (i32.mul (i32.add (local.get $ix0) (i32.mul (local.get $kw0) (local.get $dw))) (local.get $cb)))
                  (local.get $nkh) (local.get $xkh) (local.get $nkw) (local.get $xkw) (local.get $c) (local.get $yp)
                  (f64.convert_i32_u (local.get $cnt)))))))
        (local.set $yp (i32.add (local.get $yp) (local.get $cb)))
        (br_if $pix (i32.lt_u (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow))))
      (if (i32.eq (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh)) (then
        (local.set $oy (i32.const 0))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))))
      (br_if $row (local.tee $rows (i32.sub (local.get $rows) (i32.const 1))))))
)
