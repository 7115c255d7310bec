; Split-K int8 GEMM on two cores joined by a barrier:
;   Y[m][n] = max(0, sum_k X[m][k] * W[k][n]),  X 16 x 512, W 512 x 128 (int32 out).
; Core 1 multiplies the upper half of K and leaves its int32 partial sums in
; HBM (tensor P); core 0 multiplies the lower half, meets core 1 at barrier 0
; (which also drains both cores' engines), then adds P, applies ReLU, stores Y.
.chip seedchip-v1
.tensor X input   int8  [16,512]  @0x0
.tensor W input   int8  [512,128] @0x2000
.tensor P scratch int32 [16,128]  @0x12000
.tensor Y output  int32 [16,128]  @0x14000

.core 0
  load   dst=sram:0x0:int8[256,1]    a=hbm:X:int8[512,1] shape=[16,256]  signal=0
  load   dst=sram:0x1000:int8[128,1] a=hbm:W:int8[128,1] shape=[256,128] signal=1
  mm.ldw a=sram:0x1000:int8[128,1] shape=[256,128] wait=1
  mm.run dst=acc:0x0:int32[128,1] a=sram:0x0:int8[256,1] shape=[16,256,128] acc=0 wait=0
  barrier id=0
  load   dst=sram:0x10000:int32[128,1] a=hbm:P:int32[128,1] shape=[16,128] signal=2
  v.add  dst=sram:0x20000:int32[128,1] a=acc:0x0:int32[128,1] b=sram:0x10000:int32[128,1] shape=[16,128] wait=2
  v.relu dst=sram:0x20000:int32[128,1] a=sram:0x20000:int32[128,1] shape=[16,128] signal=3
  store  dst=hbm:Y:int32[128,1] a=sram:0x20000:int32[128,1] shape=[16,128] wait=3

.core 1
  load   dst=sram:0x0:int8[256,1]    a=hbm:X+256:int8[512,1]    shape=[16,256]  signal=0
  load   dst=sram:0x1000:int8[128,1] a=hbm:W+0x8000:int8[128,1] shape=[256,128] signal=1
  mm.ldw a=sram:0x1000:int8[128,1] shape=[256,128] wait=1
  mm.run dst=acc:0x0:int32[128,1] a=sram:0x0:int8[256,1] shape=[16,256,128] acc=0 wait=0 signal=2
  store  dst=hbm:P:int32[128,1] a=acc:0x0:int32[128,1] shape=[16,128] wait=2
  barrier id=0
