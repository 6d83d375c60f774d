// sharp, loaded on first use: loading libvips takes 0.1–0.4 s on 2 cores, and a start needs no image until the
// first job arrives (bench/README.md, issue 17). Import `sharp` from here instead of from the package.
import { createRequire } from 'node:module';
import type Sharp from 'sharp';

type SharpFn = typeof Sharp;
const require = createRequire(import.meta.url);
let loaded: SharpFn | undefined;

const sharp = ((...args: Parameters<SharpFn>) => (loaded ??= require('sharp') as SharpFn)(...args)) as SharpFn;
export default sharp;
