export { DEFAULT_KRILL_IMAGE, KrillContainer, StartedKrillContainer } from "./krill-container.js";
