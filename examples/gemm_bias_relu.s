; Tiled int8 GEMM + bias + ReLU with int8 requantisation, on one core.
;   C[m][n] = sat_int8(round_even(max(0, sum_k A[m][k] * B[k][n] + bias[n]) / 1024))
; A is 128 x 512, B is 512 x 512: B is streamed as four 256 x 256 tiles
; (K split in two, N split in two) through two SRAM buffers, so the DMA of
; the next tile overlaps the matrix engine working on the current one.
;
; Semaphores: 0 A loaded, 1 bias loaded, 2/3 weight buffer 0/1 full,
; 4/5 weight buffer 0/1 free, 6 accumulator tile done, 7 int8 tile ready.
; SRAM: A 0x0, weight buffers 0x10000 and 0x20000, bias 0x30000, C 0x40000.
; Accumulators: tile n=0 at 0x0, tile n=1 at 0x20000 (128 x 256 int32 each).
.chip seedchip-v1
.tensor A    input  int8  [128,512] @0x0
.tensor B    input  int8  [512,512] @0x10000
.tensor bias input  int32 [512]     @0x50000
.tensor C    output int8  [128,512] @0x51000

.core 0
  load dst=sram:0x0:int8[512,1]      a=hbm:A:int8[512,1]         shape=[128,512] signal=0
  load dst=sram:0x30000:int32[1]     a=hbm:bias:int32[1]         shape=[512]     signal=1
  load dst=sram:0x10000:int8[256,1]  a=hbm:B:int8[512,1]         shape=[256,256] signal=2  ; k 0..255,   n 0..255
  load dst=sram:0x20000:int8[256,1]  a=hbm:B+0x20000:int8[512,1] shape=[256,256] signal=3  ; k 256..511, n 0..255

  mm.ldw a=sram:0x10000:int8[256,1] shape=[256,256] wait=2 signal=4
  mm.run dst=acc:0x0:int32[256,1] a=sram:0x0:int8[512,1] shape=[128,256,256] acc=0 wait=0
  load dst=sram:0x10000:int8[256,1]  a=hbm:B+0x100:int8[512,1]   shape=[256,256] wait=4 signal=2  ; k 0..255, n 256..511
  mm.ldw a=sram:0x20000:int8[256,1] shape=[256,256] wait=3 signal=5
  mm.run dst=acc:0x0:int32[256,1] a=sram:0x100:int8[512,1] shape=[128,256,256] acc=1 signal=6
  load dst=sram:0x20000:int8[256,1]  a=hbm:B+0x20100:int8[512,1] shape=[256,256] wait=5 signal=3  ; k 256..511, n 256..511

  mm.ldw a=sram:0x10000:int8[256,1] shape=[256,256] wait=2
  mm.run dst=acc:0x20000:int32[256,1] a=sram:0x0:int8[512,1] shape=[128,256,256] acc=0
  mm.ldw a=sram:0x20000:int8[256,1] shape=[256,256] wait=3
  mm.run dst=acc:0x20000:int32[256,1] a=sram:0x100:int8[512,1] shape=[128,256,256] acc=1 signal=6

  ; epilogue per N tile: bias (broadcast along rows), ReLU, requantise to int8
  nop engine=vector wait=1
  v.add   dst=acc:0x0:int32[256,1] a=acc:0x0:int32[256,1] b=sram:0x30000:int32[0,1] shape=[128,256] wait=6
  v.relu  dst=acc:0x0:int32[256,1] a=acc:0x0:int32[256,1] shape=[128,256]
  v.quant dst=sram:0x40000:int8[512,1] a=acc:0x0:int32[256,1] b=imm:fp32:1024 shape=[128,256] zp=0 signal=7
  v.add   dst=acc:0x20000:int32[256,1] a=acc:0x20000:int32[256,1] b=sram:0x30400:int32[0,1] shape=[128,256] wait=6
  v.relu  dst=acc:0x20000:int32[256,1] a=acc:0x20000:int32[256,1] shape=[128,256]
  v.quant dst=sram:0x40100:int8[512,1] a=acc:0x20000:int32[256,1] b=imm:fp32:1024 shape=[128,256] zp=0 signal=7

  store dst=hbm:C:int8[512,1]       a=sram:0x40000:int8[512,1] shape=[128,256] wait=7
  store dst=hbm:C+0x100:int8[512,1] a=sram:0x40100:int8[512,1] shape=[128,256] wait=7
