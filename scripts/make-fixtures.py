# SPDX-License-Identifier: MIT
"""PyTorch reference fixtures for the autodiff parity tests (tests/training/autodiff/parity.test.ts).

Rerun (from the repository root, with Debian's python3-torch 1.13 or any torch >= 1.13):

    /usr/bin/python3 scripts/make-fixtures.py

Writes tests/fixtures/autodiff/<case>.json. Each tensor is {"shape": [...], "f32": "<base64 of
little-endian float32>"} so the values are bit-exact and small. Every case stores its seeded
inputs (the TypeScript side feeds exactly these) and PyTorch's forward outputs and gradients;
the DCGAN block also stores BN running statistics and parameters after three Adam steps.
Loss conventions: `l1` = mean |y - x|; `dot` = sum(y * g) with a stored random probe g, so that
every output element receives a distinct gradient.
"""
import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures', 'autodiff')
SEED = 20240611


def enc(t):
    a = t.detach().cpu().contiguous().numpy().astype('<f4')
    return {'shape': list(a.shape), 'f32': base64.b64encode(a.tobytes()).decode('ascii')}


def randn(gen, *shape, scale=1.0):
    return (torch.randn(*shape, generator=gen) * scale).float()


def leaf(t):
    return t.clone().requires_grad_(True)


def dcgan_block(gen):
    """Conv(1->8,k4,s2,p1,no bias) -> BN(train) -> LeakyReLU(0.2) -> ConvT(8->1,k4,s2,p1,bias) -> Tanh, L1."""
    x = torch.rand(4, 1, 12, 12, generator=gen) * 2 - 1
    init = {
        'w1': randn(gen, 8, 1, 4, 4, scale=0.25),
        'gamma': 1 + randn(gen, 8, scale=0.1),
        'beta': randn(gen, 8, scale=0.1),
        'w2': randn(gen, 8, 1, 4, 4, scale=0.1),
        'b2': randn(gen, 1, scale=0.1),
    }
    params = {k: leaf(v) for k, v in init.items()}
    xg = leaf(x)
    rm, rv = torch.zeros(8), torch.ones(8)
    opt = torch.optim.Adam(params.values(), lr=2e-3, betas=(0.5, 0.999))
    out = {'inputs': {'x': enc(x), **{k: enc(v) for k, v in init.items()},
                      'running_mean': enc(rm), 'running_var': enc(rv)},
           'expected': {}}
    losses = []
    for step in range(1, 4):
        opt.zero_grad()
        if xg.grad is not None:
            xg.grad = None
        h = F.conv2d(xg, params['w1'], None, stride=2, padding=1)
        h = F.batch_norm(h, rm, rv, params['gamma'], params['beta'], training=True, momentum=0.1, eps=1e-5)
        h = F.leaky_relu(h, 0.2)
        y = torch.tanh(F.conv_transpose2d(h, params['w2'], params['b2'], stride=2, padding=1))
        loss = (y - x).abs().mean()
        loss.backward()
        losses.append(loss.detach().reshape(1))
        if step == 1:
            e = out['expected']
            e['y'] = enc(y)
            e['grad_x'] = enc(xg.grad)
            for k, p in params.items():
                e['grad_' + k] = enc(p.grad)
            e['running_mean_1'] = enc(rm)
            e['running_var_1'] = enc(rv)
        opt.step()
        if step == 1:
            for k, p in params.items():
                out['expected'][k + '_1'] = enc(p)
    e = out['expected']
    e['loss'] = enc(torch.cat(losses))
    for k, p in params.items():
        e[k + '_3'] = enc(p)
    e['running_mean_3'] = enc(rm)
    e['running_var_3'] = enc(rv)
    out['adam'] = {'lr': 2e-3, 'beta1': 0.5, 'beta2': 0.999, 'eps': 1e-8, 'steps': 3}
    out['bn'] = {'eps': 1e-5, 'momentum': 0.1}
    return out


# Odd geometries: (name, kind, N, Cin, Cout, H, W, k, stride, pad, dilation, output_padding)
ODD_CASES = [
    ('conv_k3s2p1_7', 'conv', 2, 3, 4, 7, 7, 3, 2, 1, 1, 0),      # r = 0
    ('conv_k3s2p1_8', 'conv', 2, 3, 4, 8, 8, 3, 2, 1, 1, 0),      # r = 1
    ('conv_k4s2p1_7', 'conv', 2, 2, 3, 7, 7, 4, 2, 1, 1, 0),      # r = 1, dW sliced 5x5 -> 4x4
    ('conv_k4s3p0_11', 'conv', 2, 2, 3, 11, 11, 4, 3, 0, 1, 0),   # r = 1
    ('conv_k4s3p0_12', 'conv', 2, 2, 3, 12, 12, 4, 3, 0, 1, 0),   # r = 2 (output_shape trap)
    ('conv_k3s1p2d2_9', 'conv', 2, 2, 3, 9, 9, 3, 1, 2, 2, 0),    # dilation 2
    ('convT_k3s2p1op1_4', 'convT', 2, 3, 2, 4, 4, 3, 2, 1, 1, 1),  # output_padding 1
    ('convT_k4s3p1op2_3', 'convT', 2, 2, 3, 3, 3, 4, 3, 1, 1, 2),  # output_padding 2
    ('convT_k3s2p0d2_4', 'convT', 2, 2, 2, 4, 4, 3, 2, 0, 2, 1),   # dilation 2 + output_padding
]


def odd_case(gen, spec):
    name, kind, n, ci, co, h, w, k, s, p, d, op = spec
    x = randn(gen, n, ci, h, w)
    wshape = (co, ci, k, k) if kind == 'conv' else (ci, co, k, k)
    wt = randn(gen, *wshape, scale=0.3)
    b = randn(gen, co, scale=0.1)
    xg, wg, bg = leaf(x), leaf(wt), leaf(b)
    if kind == 'conv':
        y = F.conv2d(xg, wg, bg, stride=s, padding=p, dilation=d)
    else:
        y = F.conv_transpose2d(xg, wg, bg, stride=s, padding=p, output_padding=op, dilation=d)
    g = randn(gen, *y.shape)
    (y * g).sum().backward()
    return {'attrs': {'kind': kind, 'k': k, 'stride': s, 'pad': p, 'dilation': d, 'output_padding': op},
            'inputs': {'x': enc(x), 'w': enc(wt), 'b': enc(b), 'g': enc(g)},
            'expected': {'y': enc(y), 'grad_x': enc(xg.grad), 'grad_w': enc(wg.grad), 'grad_b': enc(bg.grad)}}


def group_norm_block(gen):
    """Conv(2->4,k3,p1,bias) -> GroupNorm(2 groups, 4 ch, eps 1e-5) -> LeakyReLU(0.2), loss dot."""
    x = randn(gen, 3, 2, 6, 6)
    init = {'w': randn(gen, 4, 2, 3, 3, scale=0.3), 'b': randn(gen, 4, scale=0.1),
            'gamma': 1 + randn(gen, 4, scale=0.1), 'beta': randn(gen, 4, scale=0.1)}
    ps = {k: leaf(v) for k, v in init.items()}
    xg = leaf(x)
    h = F.conv2d(xg, ps['w'], ps['b'], padding=1)
    h = F.group_norm(h, 2, ps['gamma'], ps['beta'], eps=1e-5)
    y = F.leaky_relu(h, 0.2)
    g = randn(gen, *y.shape)
    (y * g).sum().backward()
    e = {'y': enc(y), 'grad_x': enc(xg.grad)}
    for k, p in ps.items():
        e['grad_' + k] = enc(p.grad)
    return {'inputs': {'x': enc(x), 'g': enc(g), **{k: enc(v) for k, v in init.items()}},
            'groups': 2, 'eps': 1e-5, 'expected': e}


def op_zoo(gen):
    """Gemm(transB, bias) -> Relu -> MatMul -> Sigmoid -> *s[1,3] -> +t[3] -> Reshape[2,6] -> ReduceMean(axis 1)."""
    init = {'x': randn(gen, 4, 6), 'w1': randn(gen, 5, 6, scale=0.5), 'b1': randn(gen, 5, scale=0.1),
            'w2': randn(gen, 5, 3, scale=0.5), 's': randn(gen, 1, 3), 't': randn(gen, 3)}
    ps = {k: leaf(v) for k, v in init.items()}
    h = torch.relu(ps['x'] @ ps['w1'].t() + ps['b1'])
    h = torch.sigmoid(h @ ps['w2']) * ps['s'] + ps['t']
    y = h.reshape(2, 6).mean(dim=1, keepdim=True)
    g = randn(gen, 2, 1)
    (y * g).sum().backward()
    e = {'y': enc(y)}
    for k, p in ps.items():
        e['grad_' + k] = enc(p.grad)
    return {'inputs': {'g': enc(g), **{k: enc(v) for k, v in init.items()}}, 'expected': e}


def main():
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    cases = {
        'dcgan-block': dcgan_block(gen),
        'odd-conv': {'cases': {spec[0]: odd_case(gen, spec) for spec in ODD_CASES}},
        'group-norm': group_norm_block(gen),
        'op-zoo': op_zoo(gen),
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for name, body in cases.items():
        body['meta'] = {'generator': 'scripts/make-fixtures.py', 'torch': torch.__version__,
                        'numpy': np.__version__, 'seed': SEED}
        path = os.path.join(OUT_DIR, name + '.json')
        with open(path, 'w') as f:
            json.dump(body, f, indent=1, sort_keys=True)
            f.write('\n')
        total += os.path.getsize(path)
        print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)')
    print(f'total {total} bytes')
    return 0


if __name__ == '__main__':
    sys.exit(main())
